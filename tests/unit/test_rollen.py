"""Given a worker's role and the state of its parts, /health says which role it has and is ready
(200) only when every part of that role is: a routing worker when its stages run, a projection
replica once its read models have caught up with the logs, `alles` when both are."""

from __future__ import annotations

import pytest

from engine.rollen import Gezondheid, Rol

STAGES = {"ingress": True, "vastleggen": True}


def test_each_role_runs_its_own_parts() -> None:
    assert [(r.routeert, r.projecteert) for r in Rol] == [(True, False), (False, True), (True, True)]


@pytest.mark.parametrize(
    ("rol", "stages", "projecties", "klaar"),
    [
        (Rol.ROUTERING, STAGES, None, True),
        (Rol.ROUTERING, {**STAGES, "vastleggen": False}, None, False),
        (Rol.PROJECTIES, {}, True, True),
        (Rol.PROJECTIES, {}, False, False),
        (Rol.ALLES, STAGES, True, True),
        (Rol.ALLES, STAGES, False, False),
        (Rol.ALLES, {**STAGES, "ingress": False}, True, False),
    ],
)
def test_ready_only_when_every_part_of_the_role_is(
    rol: Rol, stages: dict[str, bool], projecties: bool | None, klaar: bool
) -> None:
    g = Gezondheid(rol=rol, gestart=True, stages=stages, projecties=projecties)
    assert g.klaar is klaar
    body = g.json()
    assert body["status"] == ("ok" if klaar else "starting") and body["rol"] == rol.value
    assert body["stages"] == list(stages)
    assert body.get("projecties") == {None: None, True: "bijgewerkt", False: "bezig"}[projecties]


def test_nothing_is_ready_before_the_topics_are_declared_and_the_services_started() -> None:
    g = Gezondheid(rol=Rol.ROUTERING, gestart=False, stages=STAGES, projecties=None)
    assert not g.klaar and g.json()["status"] == "starting"
