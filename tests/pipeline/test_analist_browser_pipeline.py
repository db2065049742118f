"""Given a RIEC's casus and signals routed to it as candidate links, when its analyst works in the
dashboard in a real browser (Debian's Chromium, driven by Playwright) as a person would — log in by
the link `make run` prints, open a signal, confirm its link, reject another, open a casus, advise,
close it, act on what is not theirs — then every step reads in Dutch with names for codes, says what
was done, offers only the forms the state allows; a token revoked meanwhile or "Afmelden" leaves
nothing on the page; and axe-core finds nothing serious.

Playwright drives the machine's own `chromium` (its browser download is not used, so nothing beyond
the Debian package and the PyPI wheel is fetched). When the browser cannot start, the test fails."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.fixtures import payload
from tests.pipeline.casus_helpers import bsn, gebeurtenissen, in_index, kenteken, opdracht, routes, uniek
from tests.pipeline.conftest import Worker
from tests.pipeline.kafka import publish

pytestmark = pytest.mark.pipeline
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".local" / "screenshots"
"""Where the test leaves its screenshots; docs/img/analist*.png are copies of them (README)."""
WACHT_MS = 30_000
PERSOON = bsn()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(
            "chromium is not installed (Debian: apt-get install chromium; .ci/run does it)", pytrace=False
        )
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--lang=nl-NL"]
        )
        yield b
        await b.close()


async def signaal(producer: AIOKafkaProducer, broker: str, gemeente: str, auto: str, tekst: str) -> str:
    ce_id = uniek("web")
    subjecten = [{"type": "voertuig", "kenteken": auto}, {"type": "persoon", "bsn": PERSOON}]
    body = payload(locatie={"gemeente": gemeente}, subjecten=subjecten, omschrijving=tekst)
    await publish(producer, "politie", body, ce_id=ce_id)
    await routes(broker, "politie", ce_id, 1)
    return f"politie:{ce_id}"


async def open_signaal(page: Page, signaal_id: str) -> None:
    """Find the signal in the inbox (filtered on what is not handled yet) and open its detail."""
    await page.select_option("#f-behandeld", "nee")
    await page.click("#f-toepassen")
    link = page.locator(f'#inbox a.signaal[data-id="{signaal_id}"]')
    await expect(link).to_be_visible(timeout=WACHT_MS)
    await link.click()
    await expect(page.locator("#d-id")).to_have_text(signaal_id, timeout=WACHT_MS)
    await expect(page.locator("#d-omschrijving")).to_be_visible(timeout=WACHT_MS)


ENGELS = re.compile(
    r"\b(the|not|may|this|was|only|required|valid|cannot|does|exist|please|unknown|refused|applied|with|"
    r"should|must|your|yours|signal|command|there|which|when|been|and|are|try|again|link)\b",
    re.IGNORECASE,
)
"""Words of English that Dutch does not use: a page a Dutch analyst reads has none of them."""
ISO_DATUM = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
AXE = ROOT / "tools" / "browser" / "node_modules" / "axe-core" / "axe.min.js"


async def tekst(page: Page) -> str:
    """What a person can read: the visible text, and the tooltips and placeholders."""
    return str(
        await page.evaluate(
            r"""() => document.body.innerText + "\n" + [...document.querySelectorAll("[title], [placeholder]")]
                 .filter((e) => e.offsetParent !== null)
                 .map((e) => (e.getAttribute("title") || "") + " " + (e.getAttribute("placeholder") || "")).join("\n")"""
        )
    )


def engels(teksten: dict[str, str]) -> list[tuple[str, str]]:
    """(step, the English found with its context) for every step whose page held English."""
    return [
        (stap, t[max(0, m.start() - 40) : m.end() + 40].replace("\n", " "))
        for stap, t in teksten.items()
        for m in ENGELS.finditer(t)
    ]


async def uitkomst(page: Page, vak: str, verwacht: str) -> None:
    await expect(page.locator(vak)).to_contain_text(verwacht, timeout=WACHT_MS)


async def test_an_analysts_day_in_the_browser_reads_as_dutch_with_names_and_forms_that_fit_the_state(
    worker: Worker, producer: AIOKafkaProducer, broker: str, browser: Browser
) -> None:
    casus_id, auto = uniek("WEB"), kenteken()
    vreemde_casus, nieuwe_casus = uniek("LIM"), uniek("NIEUW")
    await opdracht(producer, "rotterdam", "casus.openen", {
        "casus_id": casus_id, "naam": "Loods aan de haven", "bron": "ondermijningsbeeld", "themas": ["drugs"],
        "subjecten": [{"type": "voertuig", "kenteken": auto}]})  # fmt: skip
    await opdracht(
        producer, "limburg", "casus.openen", {"casus_id": vreemde_casus, "naam": "n", "bron": "gebiedsscan"}
    )
    await gebeurtenissen(broker, f"casus:{casus_id}", 1)
    await gebeurtenissen(broker, f"casus:{vreemde_casus}", 1)
    await in_index(broker, casus_id)  # routing matches a casus once its identifiers are in the index
    eerste = await signaal(producer, broker, "GM0599", auto, "Busje van de casus bij de loods")
    tweede = await signaal(producer, broker, "GM0599", auto, "Zelfde kenteken, andere plek")
    derde = await signaal(producer, broker, "GM0599", kenteken(), "Drugslab in een schuur aan de dijk")
    elders = await signaal(producer, broker, "GM0935", kenteken(), "Signaal voor RIEC Limburg")
    teksten: dict[str, str] = {}
    posts: list[str] = []

    page = await browser.new_page(viewport={"width": 1500, "height": 1100}, locale="nl-NL")
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # Given the analyst logs in by the link make run prints: the RIEC by its name
    await page.goto(f"{worker.url}/dashboard#riec=rotterdam&token={worker.tokens['riec:rotterdam']}")
    await expect(page.locator("#titel")).to_have_text("· RIEC Rotterdam")
    await expect(page.locator("#wie")).to_have_text("Aangemeld voor RIEC Rotterdam")

    # The inbox names the partner and says what each signal is about
    rij = page.locator("#inbox tr", has=page.locator(f'a.signaal[data-id="{eerste}"]'))
    await expect(rij).to_contain_text("Busje van de casus bij de loods", timeout=WACHT_MS)
    await expect(rij).to_contain_text("Politie")
    teksten["inbox"] = await tekst(page)

    # When they open a signal: names, not codes; one date format; then confirm its candidate link
    await open_signaal(page, eerste)
    await expect(page.locator("#d-omschrijving")).to_have_text("Busje van de casus bij de loods")
    inhoud = page.locator("#d-inhoud")
    await expect(inhoud).to_contain_text("Rotterdam")
    await expect(inhoud.locator('[title="GM0599"]')).to_have_text("Rotterdam")
    assert ISO_DATUM.findall(await inhoud.inner_text()) == [], "every date as a person writes it"
    await expect(inhoud).to_contain_text("persoon · pseudoniem")
    await expect(inhoud).not_to_contain_text(PERSOON)
    await page.click(f'#d-redenen button.bevestig[data-casus="{casus_id}"]')
    await uitkomst(page, "#d-uitkomst", f"Koppeling bevestigd met casus {casus_id}.")
    await expect(page.locator("#d-casussen")).to_contain_text("bevestigd", timeout=WACHT_MS)
    teksten["signaal, koppeling bevestigd"] = await tekst(page)
    await page.select_option("#f-behandeld", "")
    await page.click("#f-toepassen")
    await expect(
        page.locator("#inbox tr", has=page.locator(f'a.signaal[data-id="{tweede}"]'))
    ).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOTS / "analist.png"), full_page=True)
    await page.click(f'#d-casussen a.casus[data-id="{casus_id}"]')
    await expect(page.locator("#c-tijdlijn")).to_contain_text("Koppeling bevestigd", timeout=WACHT_MS)
    await expect(page.locator("#c-tijdlijn")).to_contain_text(eerste)
    await expect(page.locator("#c-tijdlijn")).to_contain_text("door riec:rotterdam")

    # When they reject the other candidate: the reason stays to be read, in the casus and the inbox
    await open_signaal(page, tweede)
    await page.fill(f'#d-redenen input.afwijsreden[data-casus="{casus_id}"]', "Ander busje")
    await page.click(f'#d-redenen button.afwijzen[data-casus="{casus_id}"]')
    await uitkomst(page, "#d-uitkomst", f"Kandidaat-koppeling met casus {casus_id} afgewezen: Ander busje")
    await page.click(f'#d-casussen a.casus[data-id="{casus_id}"]')
    await expect(page.locator("#c-afgewezen")).to_contain_text(f"{tweede} · Ander busje", timeout=WACHT_MS)
    await expect(page.locator("#c-tijdlijn")).to_contain_text("reden: Ander busje")
    await page.select_option("#f-behandeld", "ja")
    await page.click("#f-toepassen")
    rij = page.locator("#inbox tr", has=page.locator(f'a.signaal[data-id="{tweede}"]'))
    await expect(rij).to_contain_text(f"afgewezen · {casus_id}", timeout=WACHT_MS)
    teksten["kandidaat afgewezen"] = await tekst(page)

    # When they open a new casus from a signal with a double click: one command, the form emptied
    await open_signaal(page, derde)
    await page.fill("#o-casus", nieuwe_casus)
    await page.fill("#o-naam", "Schuur aan de dijk")
    voor = len(posts)
    await page.dblclick("#o-openen")
    await uitkomst(
        page, "#d-uitkomst", f"Casus {nieuwe_casus} geopend. Koppeling bevestigd met casus {nieuwe_casus}."
    )
    assert len(posts) - voor == 1, "a double click sends the command once"
    await expect(page.locator("#o-casus")).to_have_value("")
    await expect(page.locator("#o-naam")).to_have_value("")
    teksten["casus geopend"] = await tekst(page)

    # When they advise in it: the advice itself is in the timeline; afpakken becomes possible
    await page.evaluate(f"location.hash = '#casus={nieuwe_casus}'")  # a link pasted in the open tab
    await expect(page.locator("#c-id")).to_contain_text(nieuwe_casus, timeout=WACHT_MS)
    await expect(page.locator("#c-afpakken")).to_be_hidden()
    await page.fill("#a-id", "ADV-1")
    await page.check('#a-soorten input[value="bibob"]')
    await page.fill("#a-uitvoerder", "gm0599")
    await page.fill("#a-coordinator", "RIEC")
    await page.click("#a-geven")
    await uitkomst(page, "#c-uitkomst", f"Interventieadvies ADV-1 gegeven in casus {nieuwe_casus}.")
    await expect(page.locator("#c-tijdlijn")).to_contain_text("advies ADV-1: bibob", timeout=WACHT_MS)
    await expect(page.locator("#c-tijdlijn")).to_contain_text("uitvoerder Gemeente Rotterdam")
    await expect(page.locator("#c-afpakken")).to_be_visible()
    await expect(page.locator("#a-id")).to_have_value("")
    teksten["advies"] = await tekst(page)

    # When they close it: read-only, no form offered any more
    await page.fill("#s-reden", "Afgerond")
    await page.click("#s-afsluiten")
    await uitkomst(page, "#c-uitkomst", f"Casus {nieuwe_casus} afgesloten.")
    await expect(page.locator("#c-acties")).to_be_hidden(timeout=WACHT_MS)
    await expect(page.locator("#c-alleen-lezen")).to_be_visible()
    await expect(page.locator("#c-tijdlijn")).to_contain_text("reden: Afgerond")
    teksten["casus afgesloten"] = await tekst(page)

    # Every refusal, in Dutch: another RIEC's casus (as an unknown one), an id in use, an empty form
    await page.evaluate(f"location.hash = {('#signaal=' + tweede)!r}")
    await expect(page.locator("#d-id")).to_have_text(tweede, timeout=WACHT_MS)
    for casus, verwacht in (
        (vreemde_casus, "Geweigerd: Deze casus bestaat niet bij uw RIEC."),
        ("", "Geweigerd: Het verzoek is niet volledig of niet geldig."),
    ):
        await page.fill("#k-casus", casus)
        await page.click("#k-koppelen")
        await uitkomst(page, "#d-uitkomst", verwacht)
        teksten[f"geweigerd: koppelen aan {casus or 'niets'}"] = await tekst(page)
    for casus, verwacht in (
        (vreemde_casus, "Geweigerd: Dit id is al in gebruik. Kies een ander id."),
        (casus_id, "Geweigerd: Deze stap is in de huidige stand van de casus niet mogelijk."),
    ):
        await page.fill("#o-casus", casus)
        await page.fill("#o-naam", "Dubbel")
        await page.click("#o-openen")
        await uitkomst(page, "#d-uitkomst", verwacht)
        teksten[f"geweigerd: openen als {casus}"] = await tekst(page)

    # When they follow a link to another RIEC's signal in the open tab: refused, nothing shown or offered
    await page.evaluate(f"location.hash = {('#signaal=' + elders)!r}")
    await uitkomst(page, "#d-uitkomst", "Dit signaal staat niet in de inbox van uw RIEC.")
    await expect(page.locator("#d-acties")).to_be_hidden()
    assert await page.locator("#d-inhoud").inner_text() == ""
    assert "Signaal voor RIEC Limburg" not in await page.content()
    teksten["signaal van een ander"] = await tekst(page)

    # Then nothing on any page of that day was English
    assert engels(teksten) == []
    await page.click(f'#casussen a.casus[data-id="{nieuwe_casus}"]')
    await expect(page.locator("#c-tijdlijn")).to_contain_text("Casus afgesloten", timeout=WACHT_MS)
    await page.locator("#casusdetail").scroll_into_view_if_needed()
    await page.screenshot(path=str(SCREENSHOTS / "analist-casus.png"))

    # And "Afmelden" takes every piece of data off the page and the token out of the tab
    await page.click("#afmelden")
    await expect(page.locator("#login")).to_be_visible()
    html = await page.content()
    for gezien in (eerste, tweede, casus_id, nieuwe_casus, "Busje van de casus", "Loods aan de haven"):
        assert gezien not in html, gezien
    assert await page.evaluate("sessionStorage.length") == 0
    teksten["afgemeld"] = await tekst(page)
    # and a token that is not (or no longer) valid is told so, in Dutch
    await page.fill("#token", "een-token-dat-niet-bestaat-0000")
    await page.click("#aanmelden")
    await expect(page.locator("#fout")).to_have_text(
        "Uw aanmelding is niet (meer) geldig. Meld u opnieuw aan met een geldig token.", timeout=WACHT_MS
    )
    teksten["ongeldig token"] = await tekst(page)
    assert engels(teksten) == []
    await page.close()


async def test_a_token_revoked_while_the_page_is_open_leaves_no_data_on_it_within_one_refresh(
    worker: Worker, producer: AIOKafkaProducer, broker: str, browser: Browser
) -> None:
    # Given an analyst's own token, added to the worker's tokens file, and a page open on a signal
    tokens_file = Path(worker.env["ENGINE_TOKENS_FILE"])
    eigen = f"eigen-{secrets.token_hex(16)}"
    tokens_file.write_text(json.dumps({**json.loads(tokens_file.read_text()), eigen: "riec:rotterdam"}))
    casus_id, auto = uniek("INGETROKKEN"), kenteken()
    await opdracht(producer, "rotterdam", "casus.openen", {"casus_id": casus_id, "naam": "Geheime loods",
                   "bron": "inbreng", "subjecten": [{"type": "voertuig", "kenteken": auto}]})  # fmt: skip
    await in_index(broker, casus_id)
    gezien = await signaal(producer, broker, "GM0599", auto, "Tekst die na intrekking weg moet zijn")
    page = await browser.new_page(viewport={"width": 1500, "height": 1100}, locale="nl-NL")
    await asyncio.sleep(1.5)  # the worker reads the tokens file again once a second
    await page.goto(f"{worker.url}/dashboard#riec=rotterdam&token={eigen}")
    await open_signaal(page, gezien)
    await page.evaluate(f"location.hash = '#casus={casus_id}'")
    await expect(page.locator("#c-id")).to_contain_text("Geheime loods", timeout=WACHT_MS)
    await expect(page.locator("#kpi-inbox")).not_to_have_text("–")
    html = await page.content()
    assert gezien in html and "Tekst die na intrekking" in html and "Geheime loods" in html

    # When the token is revoked (taken out of the tokens file)
    tokens = json.loads(tokens_file.read_text())
    del tokens[eigen]
    tokens_file.write_text(json.dumps(tokens))
    ingetrokken = time.monotonic()

    # Then within one refresh interval (10 s) the page holds none of it, and asks to log in again
    await expect(page.locator("#login")).to_be_visible(timeout=12_000)
    assert time.monotonic() - ingetrokken < 12
    html = await page.content()
    for data in (gezien, casus_id, "Tekst die na intrekking", "Geheime loods", eigen):
        assert data not in html, data
    tegels = await page.locator(".kpi b").all_inner_texts()
    assert tegels == ["–"] * 5, "no count either"
    await expect(page.locator("#fout")).to_contain_text("Meld u opnieuw aan")
    await expect(page.locator("#wie")).to_have_text("")
    assert await page.locator("#riec").input_value() == "rotterdam", "the RIEC stays chosen"
    assert await page.evaluate("sessionStorage.length") == 0
    await page.close()


async def test_the_page_has_no_serious_accessibility_findings(
    worker: Worker, producer: AIOKafkaProducer, broker: str, browser: Browser
) -> None:
    """axe-core (tools/browser) over the login form and over the dashboard with a signal and a
    casus open, every candidate's form shown. Its script is injected, so this context bypasses the
    page's CSP (which allows no script but the page's own); the other tests keep it."""
    assert AXE.is_file(), "make test installs axe-core (npm ci --prefix tools/browser)"
    casus_id, auto = uniek("AXE"), kenteken()
    await opdracht(producer, "rotterdam", "casus.openen", {"casus_id": casus_id, "naam": "Toegankelijk",
                   "bron": "inbreng", "subjecten": [{"type": "voertuig", "kenteken": auto}]})  # fmt: skip
    await in_index(broker, casus_id)
    sid = await signaal(producer, broker, "GM0599", auto, "Een signaal om de pagina te toetsen")
    context = await browser.new_context(
        bypass_csp=True, viewport={"width": 1500, "height": 1100}, locale="nl-NL"
    )
    page = await context.new_page()
    bevindingen: dict[str, list[tuple[str, str, int]]] = {}

    async def toets(stap: str) -> None:
        await page.add_script_tag(path=str(AXE))
        uitslag = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        assert len(uitslag["passes"]) > 10, "axe ran its rules"
        bevindingen[stap] = [
            (v["id"], v["impact"], len(v["nodes"]))
            for v in uitslag["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    await page.goto(f"{worker.url}/dashboard")
    await expect(page.locator("#login")).to_be_visible()
    await toets("aanmelden")
    await page.goto(f"{worker.url}/dashboard#riec=rotterdam&token={worker.tokens['riec:rotterdam']}")
    await open_signaal(page, sid)
    await page.evaluate(f"location.hash = '#casus={casus_id}'")
    await expect(page.locator("#c-tijdlijn")).to_contain_text("Casus geopend", timeout=WACHT_MS)
    await toets("dashboard")
    await context.close()
    assert bevindingen == {"aanmelden": [], "dashboard": []}
