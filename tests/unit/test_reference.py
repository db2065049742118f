from collections import Counter

from engine.domain.reference import RIECS, gebiedsindeling, onbekende_partner, partnergroep


def test_342_gemeenten_in_the_counts_of_the_sources_note() -> None:
    gebied = gebiedsindeling()
    assert len(gebied.gemeenten) == 342
    counts = Counter(g.riec for g in gebied.gemeenten.values())
    assert counts == {
        "amsterdam-amstelland": 6, "den-haag": 27, "limburg": 31, "midden-nederland": 38,
        "noord-holland": 32, "noord-nederland": 40, "oost-brabant": 32, "oost-nederland": 76,
        "rotterdam": 23, "zeeland-west-brabant": 37,
    }  # fmt: skip
    assert set(counts) == set(RIECS)


def test_pc4_spot_checks_of_the_sources_note() -> None:
    gebied = gebiedsindeling()
    expected = {"1012": "amsterdam-amstelland", "2511": "den-haag", "3011": "rotterdam",
                "3511": "midden-nederland", "4811": "zeeland-west-brabant", "5611": "oost-brabant",
                "6211": "limburg", "6811": "oost-nederland", "9711": "noord-nederland"}  # fmt: skip
    for pc4, riec in expected.items():
        gemeente = gebied.gemeente_van_postcode(pc4 + "AA")
        assert gemeente is not None and gemeente.riec == riec, pc4


def test_partner_orgs_cover_gemeenten_provincies_and_national_partners() -> None:
    orgs = gebiedsindeling().partner_orgs
    assert len(orgs) == 342 + 12 + 11
    assert {"gm0363", "pv27", "politie", "toeslagen"} <= set(orgs)
    assert [partnergroep(o) for o in ("gm0363", "pv27", "om")] == ["gemeente", "provincie", "om"]


def test_a_partner_is_a_known_gemeente_one_of_the_12_provincies_or_a_national_partner() -> None:
    gemeenten = gebiedsindeling().gemeenten
    for org in ("gm0363", "gm1980", "pv20", "pv31", "politie", "toeslagen", "nvwa"):
        assert onbekende_partner(org, gemeenten) is None, org
    for org in ("gm9999", "gm1999", "gm0000", "pv19", "pv32", "pv99", "acme", "gmxxxx", "gm03630"):
        assert onbekende_partner(org, gemeenten), org
    assert "ENGINE_EXTRA_GEMEENTEN" in (onbekende_partner("gm9999", gemeenten) or "")
    assert "12 provincies" in (onbekende_partner("pv99", gemeenten) or "")


def test_a_gemeente_born_of_a_merger_is_admitted_by_the_allow_list_only() -> None:
    gemeenten = gebiedsindeling().gemeenten
    assert onbekende_partner("gm1999", gemeenten, frozenset({"gm1999"})) is None
    assert onbekende_partner("gm1998", gemeenten, frozenset({"gm1999"}))
    assert onbekende_partner("pv99", gemeenten, frozenset({"pv99"})), "the allow-list is for gemeenten"
