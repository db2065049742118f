"""Given a dry run of a version written by proefrouteer, when `engine.tools regelversie aanvragen`
files the request, then it posts the version's id and the summary of exactly that file (sha256 of
its bytes) with the person's token; a dry run of another version is refused before anything is sent."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from engine.domain.proefroutering import Proefroutering
from engine.domain.reference.regelversies import laad_versie
from engine.ops import tools
from tests.fixtures import regelversie_map

ontvangen: list[tuple[str, str, dict[str, object]]] = []


class _Api(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ontvangen.append((self.path, self.headers["Authorization"], orjson.loads(body)))
        self.send_response(202)
        self.end_headers()
        self.wfile.write(b'{"opdracht": "dien_in"}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Api)
    draad = threading.Thread(target=server.serve_forever, daemon=True)
    draad.start()
    ontvangen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def proefrouteer(uit: Path, versie_id: str) -> Path:
    """A dry run's JSON as proefrouteer writes it (no differences, 5 signals)."""
    uitkomst = Proefroutering(
        van=date(2026, 1, 1), tot=date(2026, 6, 30), regelversie=versie_id,
        geldig_vanaf=date(2027, 1, 1), omschrijving="", signalen=5,
    )  # fmt: skip
    uit.mkdir(exist_ok=True)
    pad = uit / f"proefroutering-{uitkomst.van}-{uitkomst.tot}-{versie_id}.json"
    pad.write_bytes(uitkomst.als_json())
    return pad


def test_the_request_is_filed_with_the_version_and_the_files_summary(api: str, tmp_path: Path) -> None:
    map_ = regelversie_map(
        tmp_path, "2027-01-01", van="2023-01-01", code="GM1992", riec="Zeeland-West-Brabant"
    )
    versie = laad_versie(map_)
    json = proefrouteer(tmp_path / "proef", versie.id)
    args = ["regelversie", "aanvragen", "--regels", str(map_), "--proef", str(tmp_path / "proef")]
    uit = CliRunner().invoke(
        tools.cli,
        [*args, "--reden", "indeling 2027", "--verzoek-id", "rv-1", "--url", api, "--token", "t-anna"],
    )
    assert uit.exit_code == 0, uit.output
    [(pad, auth, body)] = ontvangen
    assert (pad, auth) == ("/api/v1/ops/verzoeken", "Bearer t-anna")
    assert body["verzoek_id"] == "rv-1" and body["handeling"] == "regelversie_aannemen"
    assert body["onderwerp"] == versie.id
    assert body["proef"] == {
        "regelversie": versie.id, "geldig_vanaf": "2027-01-01", "van": "2026-01-01", "tot": "2026-06-30",
        "signalen": 5, "anders": 0, "bestemmingen": {}, "sha256": hashlib.sha256(json.read_bytes()).hexdigest(),
    }  # fmt: skip
    assert "a second person approves" in uit.output


def test_a_dry_run_of_another_version_is_refused_before_anything_is_sent(api: str, tmp_path: Path) -> None:
    map_ = regelversie_map(
        tmp_path, "2027-01-01", van="2023-01-01", code="GM1992", riec="Zeeland-West-Brabant"
    )
    json = proefrouteer(tmp_path / "proef", "d816490f2c45e987")
    uit = CliRunner().invoke(
        tools.cli,
        ["regelversie", "aanvragen", "--regels", str(map_), "--proef", str(json), "--reden", "r", "--url", api,
         "--token", "t"],
    )  # fmt: skip
    assert uit.exit_code == 2 and "is a dry run of version d816490f2c45e987" in uit.output
    uit = CliRunner().invoke(
        tools.cli,
        ["regelversie", "aanvragen", "--regels", str(map_), "--proef", str(tmp_path / "proef"), "--reden", "r",
         "--url", api, "--token", "t"],
    )  # fmt: skip
    assert uit.exit_code == 2 and "no dry run of version" in uit.output
    assert ontvangen == []
