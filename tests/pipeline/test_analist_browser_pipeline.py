"""Given a RIEC's casus and signals routed to it as candidate links, when its analyst works in the
dashboard in a real browser (Debian's Chromium, driven by Playwright) as a person would — log in by
the link `make run` prints, open a signal, confirm its link, reject another, act on what is not
theirs — then the page shows each outcome and the casus and inbox change.

Playwright drives the machine's own `chromium` (its browser download is not used, so nothing beyond
the Debian package and the PyPI wheel is fetched). When the browser cannot start, the test fails."""

from __future__ import annotations

import shutil
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
SCREENSHOT = ROOT / ".local" / "screenshots" / "analist.png"
"""Where the test leaves its screenshot; docs/img/analist.png is a copy of one (README)."""
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
        b = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
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


async def test_an_analyst_handles_candidate_links_in_the_browser(
    worker: Worker, producer: AIOKafkaProducer, broker: str, browser: Browser
) -> None:
    casus_id, auto = uniek("WEB"), kenteken()
    vreemde_casus = uniek("LIM")
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
    elders = await signaal(producer, broker, "GM0935", kenteken(), "Signaal voor RIEC Limburg")

    page = await browser.new_page(viewport={"width": 1500, "height": 1100})
    # Given the analyst logs in by the link make run prints
    await page.goto(f"{worker.url}/dashboard#riec=rotterdam&token={worker.tokens['riec:rotterdam']}")
    await expect(page.locator("#titel")).to_have_text("· RIEC rotterdam")

    # When they open a signal and confirm its candidate link
    await open_signaal(page, eerste)
    await expect(page.locator("#d-omschrijving")).to_have_text("Busje van de casus bij de loods")
    await expect(page.locator("#d-subjecten")).to_contain_text("persoon · pseudoniem")
    await expect(page.locator("#d-subjecten")).not_to_contain_text(PERSOON)
    await page.click(f'#d-redenen button.bevestig[data-casus="{casus_id}"]')
    await expect(page.locator("#d-uitkomst")).to_contain_text("Toegepast", timeout=WACHT_MS)
    # Then the casus has the signal, and the inbox marks it handled
    await expect(page.locator("#d-casussen")).to_contain_text("bevestigd", timeout=WACHT_MS)
    await expect(page.locator("#d-behandeling")).to_contain_text(f"gekoppeld · {casus_id}", timeout=WACHT_MS)
    await page.click(f'#d-casussen a.casus[data-id="{casus_id}"]')
    await expect(page.locator("#c-tijdlijn")).to_contain_text("Koppeling bevestigd", timeout=WACHT_MS)
    await expect(page.locator("#c-tijdlijn")).to_contain_text(eerste)
    await expect(page.locator("#c-tijdlijn")).to_contain_text("door riec:rotterdam")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await expect(page.locator("#d-redenen")).to_contain_text("koppeling bevestigd")
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOT))

    # When they reject the other candidate: marked rejected in the inbox
    await open_signaal(page, tweede)
    await page.fill(f'#d-redenen input.afwijsreden[data-casus="{casus_id}"]', "Ander busje")
    await page.click(f'#d-redenen button.afwijzen[data-casus="{casus_id}"]')
    await expect(page.locator("#d-uitkomst")).to_contain_text("Toegepast", timeout=WACHT_MS)
    await page.select_option("#f-behandeld", "ja")
    await page.click("#f-toepassen")
    rij = page.locator("#inbox tr", has=page.locator(f'a.signaal[data-id="{tweede}"]'))
    await expect(rij).to_contain_text(f"afgewezen · {casus_id}", timeout=WACHT_MS)

    # When they link their signal to another RIEC's casus: refused, with the reason
    await open_signaal(page, (await _nog_een(producer, broker, auto)))
    await page.fill("#k-casus", vreemde_casus)
    await page.click("#k-koppelen")
    await expect(page.locator("#d-uitkomst")).to_contain_text("Geweigerd (unknown_casus)", timeout=WACHT_MS)

    # When they open another RIEC's signal by its link: refused, nothing of it shown
    await page.goto(f"{worker.url}/dashboard#signaal={elders}")
    await page.reload()  # a new fragment alone does not load the page again
    await expect(page.locator("#d-uitkomst")).to_contain_text("is not in the inbox", timeout=WACHT_MS)
    await expect(page.locator("#d-omschrijving")).not_to_contain_text("Signaal voor RIEC Limburg")
    await page.close()


async def _nog_een(producer: AIOKafkaProducer, broker: str, auto: str) -> str:
    return await signaal(producer, broker, "GM0599", auto, "Derde signaal")
