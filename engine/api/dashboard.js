// The dashboard's script, in a file of its own because the page's CSP allows no inline script.
// Everything a person reads is Dutch: the API's `melding` for refusals, names for codes (GET
// /api/v1/namen), one date format. A token that stops working clears the page at once.
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const DAG = new Intl.DateTimeFormat("nl-NL", {day: "numeric", month: "short", year: "numeric"});
const KLOK = new Intl.DateTimeFormat("nl-NL", {hour: "2-digit", minute: "2-digit"});
const euro = (c) => (c / 100).toLocaleString("nl-NL", {style: "currency", currency: "EUR"});
const getal = (n) => (n ?? 0).toLocaleString("nl-NL");
const slaap = (ms) => new Promise((k) => setTimeout(k, ms));
const LEEG = $("dashboard").innerHTML;
/** The page as it was loaded: put back whole when a session ends, so nothing read stays in the DOM. */

let NAMEN = {riecs: {}, lfts: {}, partners: {}, gemeenten: {}, partnergroepen: {}, eenheden: {}};
let sessie = null, volgende = null, etag = null, huidigSignaal = null, huidigeCasus = null;

/** One format for every date on the page: "5 dec 2026", and "5 dec 2026 14:05" when there is a time. */
function datum(iso) {
  if (!iso) return "";
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return DAG.format(new Date(iso + "T12:00:00"));
  const d = new Date(iso);
  return `${DAG.format(d)} ${KLOK.format(d)}`;
}

const naam = (soort, code) => (NAMEN[soort] || {})[code] || code;
/** A name where the page shows a code, the code as its tooltip. */
const benoemd = (soort, code) => `<span title="${esc(code)}">${esc(naam(soort, code))}</span>`;
const partnerNaam = (org) => naam("partners", String(org || "").toLowerCase());
const LANDEN = {NL: "Nederland", BE: "België", DE: "Duitsland"};
const REGELS = {locatie: "locatie", adres_subject: "adres van een subject", handhavingsknelpunt: "handhavingsknelpunt",
  handhavingsknelpunt_begrensd: "meer handhavingsknelpunten", open_casus: "open casus", open_casus_begrensd: "meer open casussen",
  fenomeentafel: "fenomeentafel", buitenland: "buitenland", bestuurlijk_signaal: "bestuurlijk signaal", triage: "triage"};
const STATUS = {geopend: "open", interventieadvies: "interventieadvies gegeven", afgesloten: "afgesloten"};
const KOPPELING = {wachtend: "gevraagd", bevestigd: "bevestigd", geweigerd: "geweigerd", verlopen: "vervallen", afgewezen: "afgewezen"};

class Afgemeld extends Error {}
/** A call of the API as the session's RIEC. A refused token (401), or a read this token may not do
 * (403), ends the session; an answer that arrives after the session ended shows nothing. */
async function api(pad, extraHeaders = {}, opties = {}) {
  const mijn = sessie;
  if (!mijn) throw new Afgemeld("");
  const r = await fetch(pad, {...opties, headers: {Authorization: "Bearer " + mijn.token, ...extraHeaders}});
  const data = r.status === 304 ? null : await r.json().catch(() => ({}));
  if (sessie !== mijn) throw new Afgemeld("");
  if (r.status === 401 || (r.status === 403 && !opties.method)) {
    afmelden(data && data.melding);
    throw new Afgemeld("");
  }
  return {status: r.status, data, headers: r.headers};
}

/** Errors of a background load: a session that ended says so itself; anything else (the network)
 * is told once, quietly. */
function stil(e) {
  if (e instanceof Afgemeld) return;
  $("verbinding").textContent = "De verbinding met de engine is verbroken; de pagina probeert het opnieuw.";
  $("verbinding").hidden = false;
}

const tags = (lijst) => (lijst || []).map((t) => `<span class="tag">${esc(t)}</span>`).join("");
const behandeldTekst = (b) => (b || []).map((x) => `<span class="behandeld ${esc(x.status)}">${esc(x.status)} · ${esc(x.casus_id)}</span>`).join(" ");
const redenHtml = (r) => `<div><span class="regel ${esc(r.regel)}">${esc(REGELS[r.regel] || r.regel)}</span><span class="reden">${esc(r.toelichting)}</span></div>`;
const kort = (tekst, n = 90) => { const t = String(tekst || "").trim(); return t.length > n ? t.slice(0, n - 1) + "…" : t; };
const signaalLink = (id) => `<a class="signaal" href="#signaal=${encodeURIComponent(id)}" data-id="${esc(id)}">${esc(id)}</a>`;
const casusLink = (id) => `<a class="casus" href="#casus=${encodeURIComponent(id)}" data-id="${esc(id)}">${esc(id)}</a>`;

function inboxRij(s) {
  return `<tr><td>${datum(s.ontvangen_op)}</td><td>${signaalLink(s.signaal_id)}</td><td class="omschrijving">${esc(kort(s.omschrijving))}</td>
          <td><span title="${esc(s.bron)}">${esc(partnerNaam(s.bron))}</span></td><td>${tags(s.themas)}</td>
          <td>${(s.redenen || []).map(redenHtml).join("")}</td><td>${behandeldTekst(s.behandeling)}</td></tr>`;
}

function filterQuery() {
  const q = new URLSearchParams();
  for (const veld of ["thema", "partnergroep", "regel", "van", "tot", "behandeld"]) {
    const v = $("f-" + veld).value;
    if (v) q.set(veld, v);
  }
  return q.toString();
}

async function laadInbox(meer = false) {
  const filter = filterQuery();
  const pad = `/api/v1/riec/${sessie.riec}/inbox?limit=50` + (filter ? "&" + filter : "") + (meer && volgende ? `&voor=${volgende}` : "");
  const r = await api(pad, meer || !etag ? {} : {"If-None-Match": etag});
  if (r.status === 304) return;
  const d = r.data;
  if (r.status !== 200) { $("inbox").innerHTML = `<tr><td colspan="7" class="leeg">${esc(d.melding)}</td></tr>`; return; }
  if (!meer) {
    etag = r.headers.get("ETag");
    $("inbox").innerHTML = "";
    const t = d.tellingen;
    $("kpi-inbox").textContent = getal(t.totaal);
    $("kpi-hkp").textContent = getal(t.handhavingsknelpunt);
    $("kpi-casus").textContent = getal(t.open_casus);
    $("kpi-behandeld").textContent = getal(t.behandeld);
    $("f-aantal").textContent = filter ? `(${getal(d.totaal)} met dit filter)` : "";
  }
  $("inbox").insertAdjacentHTML("beforeend", d.items.length ? d.items.map(inboxRij).join("") : `<tr><td colspan="7" class="leeg">Geen signalen.</td></tr>`);
  volgende = d.volgende;
  $("meer").hidden = !volgende;
}

// A key per form as shown: a retried request sends the same key, so the API derives the same command id.
let formulierSleutel = null;
const nieuweSleutel = () => { formulierSleutel = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)); };

function koppelingTekst(casus, status) {
  if (status === "bevestigd") return `Koppeling bevestigd met casus ${casus}.`;
  if (status === "verlopen" || status === "geweigerd") return `Koppeling met casus ${casus} vervallen: het signaal staat niet in de inbox van uw RIEC.`;
  return `Koppeling met casus ${casus} gevraagd; de engine bevestigt haar zodra het signaal in uw inbox staat.`;
}

/** What each command did, said as a person says it. */
const GEDAAN = {
  openen: (b, u) => `Casus ${b.casus_id} geopend. ` + koppelingTekst(b.casus_id, (u.koppelingen || {})[b.signalen[0]]),
  koppelen: (b, u) => koppelingTekst(b.casus_id, (u.koppelingen || {})[b.signaal_id]),
  afwijzen: (b) => `Kandidaat-koppeling met casus ${b.casus_id} afgewezen` + (b.reden ? `: ${b.reden}` : "."),
  advies: (b) => `Interventieadvies ${b.advies_id} gegeven in casus ${b.casus_id}.`,
  afpakken: (b) => `Afpakken geregistreerd in casus ${b.casus_id}: ${euro(b.bedrag_eurocent)} (${b.soort}, ${b.domein}).`,
  afsluiten: (b) => `Casus ${b.casus_id} afgesloten.`,
};

function toon(vak, soort, tekst, code) {
  vak.className = "uitkomst " + soort;
  vak.textContent = tekst;
  vak.title = code || "";
}

/** Sends a command from a form: its button is disabled from the first click until the outcome, the
 * form is emptied once it was applied. */
async function geef(actie, knop, maakBody, vakId, formulier) {
  if (knop.disabled) return;
  knop.disabled = true;
  const vak = $(vakId);
  try {
    const body = await maakBody();
    const r = await api(`/api/v1/riec/${sessie.riec}/opdrachten/${actie}`,
      {"Content-Type": "application/json", "Idempotency-Key": `${actie}-${formulierSleutel}`},
      {method: "POST", body: JSON.stringify(body)});
    if (r.status !== 202) { toon(vak, "geweigerd", `Geweigerd: ${r.data.melding}`); return; }
    toon(vak, "wachtend", "Verstuurd; de engine beslist …");
    let u = r.data;
    for (let i = 0; i < 60 && u.status === "wachtend"; i++) { await slaap(500); u = (await api(r.data.uitkomst)).data; }
    const signaal = body.signaal_id || (body.signalen || [])[0];
    if (u.status === "toegepast" && signaal && (actie === "koppelen" || actie === "openen")) {
      for (let i = 0; i < 20 && !(u.koppelingen || {})[signaal]; i++) { await slaap(500); u = (await api(r.data.uitkomst)).data; }
    }
    if (u.status === "toegepast") {
      toon(vak, "toegepast", GEDAAN[actie](body, u));
      if (formulier) for (const veld of $(formulier).querySelectorAll("input")) { if (veld.type === "checkbox") veld.checked = false; else veld.value = ""; }
      nieuweSleutel();
    } else if (u.status === "geweigerd") {
      toon(vak, "geweigerd", `Geweigerd: ${u.melding}`, u.code);
    } else {
      toon(vak, "wachtend", "De engine heeft nog niet beslist; kijk zo opnieuw.");
    }
    etag = null;
    await Promise.all([laadInbox(), laadCasussen(), huidigSignaal ? toonSignaal(huidigSignaal, false) : null,
                       huidigeCasus ? toonCasus(huidigeCasus, false) : null]);
  } catch (e) { stil(e); } finally { knop.disabled = false; }
}

function subjectTekst(s) {
  const rest = Object.entries(s).filter(([k]) => k !== "type").map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
  return `<div class="mono">${esc(s.type)} · ${esc(rest.join(" · "))}</div>`;
}

function locatieTekst(l) {
  if (!l) return "–";
  const gemeente = l.gemeente ? benoemd("gemeenten", l.gemeente) : "";
  const land = l.land && l.land !== "NL" ? esc(LANDEN[l.land] || l.land) : "";
  return [esc([l.postcode, l.huisnummer].filter(Boolean).join(" ")), gemeente, land].filter(Boolean).join(", ") || "–";
}

function veld(label, html) { return `<div><span class="label">${label}</span><div>${html}</div></div>`; }

async function toonSignaal(id, nieuw = true) {
  const r = await api(`/api/v1/riec/${sessie.riec}/signalen/${encodeURIComponent(id)}`);
  const s = r.data;
  $("detail").hidden = false;
  $("d-id").textContent = r.status === 200 ? s.signaal_id : "";
  if (nieuw) toon($("d-uitkomst"), "", "");
  if (r.status !== 200) {  // not in this RIEC's inbox (another's, unknown, withdrawn): nothing to show or do
    huidigSignaal = null;
    $("d-inhoud").innerHTML = "";
    $("d-acties").hidden = true;
    toon($("d-uitkomst"), "geweigerd", s.melding);
    return;
  }
  huidigSignaal = id; nieuweSleutel();
  const besloten = Object.fromEntries(s.casussen.map((c) => [c.casus_id, c.koppeling]));
  const redenen = s.redenen.map((x) => {
    const kandidaat = x.casus_id && x.regel === "open_casus";
    if (kandidaat && besloten[x.casus_id]) {
      const status = besloten[x.casus_id];
      return `<div class="kandidaat">${redenHtml(x)}<span class="behandeld ${status === "afgewezen" ? "afgewezen" : "gekoppeld"}">koppeling ${esc(KOPPELING[status] || status)}</span></div>`;
    }
    if (!kandidaat) return `<div class="kandidaat">${redenHtml(x)}</div>`;
    const c = esc(x.casus_id);
    return `<div class="kandidaat">${redenHtml(x)}<button class="klein bevestig" data-casus="${c}">Koppeling bevestigen</button>
      <label class="verborgen" for="afwijs-${c}">Reden van afwijzen voor casus ${c}</label>
      <input class="afwijsreden" id="afwijs-${c}" data-casus="${c}" placeholder="reden van afwijzen"><button class="klein afwijzen" data-casus="${c}">Afwijzen</button></div>`;
  }).join("");
  const casussen = s.casussen.map((c) => `<div>${casusLink(c.casus_id)} ${esc(c.naam)} · casus ${esc(STATUS[c.status] || c.status)} · koppeling <b>${esc(KOPPELING[c.koppeling] || c.koppeling)}</b></div>`).join("")
    || `<span class="leeg">Nog aan geen casus gekoppeld.</span>`;
  $("d-inhoud").innerHTML = `<div class="velden">
      <div><span class="label">Omschrijving</span><p id="d-omschrijving">${esc(s.omschrijving)}</p></div>
      ${veld("Bron", `<span title="${esc(s.bron)}">${esc(partnerNaam(s.bron))}</span>`)}
      ${veld("Waargenomen", esc(datum(s.waargenomen_op)) || "–")}
      ${veld("Gemeld / ontvangen", `${esc(datum(s.gemeld_op))} / ${esc(datum(s.ontvangen_op))}`)}
      ${veld("Locatie", locatieTekst(s.locatie))}
      ${veld("Thema's", tags(s.themas) || "–")}
      ${veld("Subjecten (pseudoniemen)", s.subjecten.map(subjectTekst).join("") || "–")}
      ${veld("Behandeling", behandeldTekst(s.behandeling) || "nog niet behandeld")}
    </div>
    <h3>Waarom bij u</h3><div id="d-redenen">${redenen}</div>
    <h3>Casussen</h3><div id="d-casussen">${casussen}</div>`;
  $("d-acties").hidden = false;
  for (const b of document.querySelectorAll("#d-redenen button.bevestig")) {
    b.onclick = () => geef("koppelen", b, () => ({casus_id: b.dataset.casus, signaal_id: id}), "d-uitkomst");
  }
  for (const b of document.querySelectorAll("#d-redenen button.afwijzen")) {
    const reden = $(`afwijs-${b.dataset.casus}`);
    b.onclick = () => geef("afwijzen", b, () => ({casus_id: b.dataset.casus, signaal_id: id, reden: reden.value}), "d-uitkomst");
  }
  if (nieuw) $("detail").scrollIntoView();
}

function tijdlijnRegel(e) {
  const delen = [];
  if (e.signaal_id) delen.push(`signaal ${esc(e.signaal_id)}`);
  if (e.advies_id) {
    delen.push(`advies ${esc(e.advies_id)}: ${esc((e.soorten || []).join(", "))}`);
    if (e.uitvoerder) delen.push(`uitvoerder ${benoemd("partners", String(e.uitvoerder).toLowerCase())}`);
    if (e.coordinator) delen.push(`coördinator ${esc(e.coordinator)}`);
  }
  if (e.bedrag_eurocent !== undefined) delen.push(`${esc(euro(e.bedrag_eurocent))} (${esc(e.soort)}, ${esc(e.domein)})`);
  if (e.melding) delen.push(esc(e.melding));
  else if (e.reden) delen.push(`reden: ${esc(e.reden)}`);
  const door = e.auteur ? ` <span class="reden">door ${esc(e.auteur)}</span>` : "";
  return `<div>${esc(datum(e.tijd))} · <b>${esc(e.gebeurtenis)}</b> ${delen.join(" · ")}${door}</div>`;
}

async function toonCasus(id, nieuw = true) {
  const r = await api(`/api/v1/riec/${sessie.riec}/casussen/${encodeURIComponent(id)}`);
  const c = r.data;
  $("casusdetail").hidden = false;
  if (nieuw) toon($("c-uitkomst"), "", "");
  if (r.status !== 200) {
    huidigeCasus = null;
    $("c-id").textContent = ""; $("c-status").textContent = ""; $("c-inhoud").innerHTML = "";
    $("c-acties").hidden = true; $("c-alleen-lezen").hidden = true;
    toon($("c-uitkomst"), "geweigerd", c.melding);
    return;
  }
  huidigeCasus = id; nieuweSleutel();
  $("c-id").textContent = `${c.casus_id} · ${c.naam}`;
  $("c-status").textContent = STATUS[c.status] || c.status; $("c-status").className = "status " + c.status;
  const afgewezen = c.afgewezen.map((a) => `<div>${signaalLink(a.signaal_id)} · ${esc(a.reden || "zonder reden")}</div>`).join("");
  $("c-inhoud").innerHTML = `<h3>Verloop</h3><div id="c-tijdlijn">${c.tijdlijn.map(tijdlijnRegel).join("")}</div>`
    + (afgewezen ? `<h3>Afgewezen kandidaat-koppelingen</h3><div id="c-afgewezen">${afgewezen}</div>` : "");
  const open = c.status !== "afgesloten";  // a closed casus is read-only: no form is offered
  $("c-acties").hidden = !open;
  $("c-alleen-lezen").hidden = open;
  $("c-afpakken").hidden = c.status !== "interventieadvies";  // afpakken follows an advies
  if (nieuw) $("casusdetail").scrollIntoView();
}

function bindFormulieren() {
  $("d-sluit").onclick = () => { $("detail").hidden = true; huidigSignaal = null; $("d-inhoud").innerHTML = ""; };
  $("c-sluit").onclick = () => { $("casusdetail").hidden = true; huidigeCasus = null; $("c-inhoud").innerHTML = ""; };
  $("o-openen").onclick = () => geef("openen", $("o-openen"), async () => {
    const themas = (await api(`/api/v1/riec/${sessie.riec}/signalen/${encodeURIComponent(huidigSignaal)}`)).data.themas || [];
    return {casus_id: $("o-casus").value.trim(), naam: $("o-naam").value, bron: "inbreng", signalen: [huidigSignaal], themas};
  }, "d-uitkomst", "f-openen");
  $("k-koppelen").onclick = () => geef("koppelen", $("k-koppelen"), () => ({casus_id: $("k-casus").value.trim(), signaal_id: huidigSignaal}), "d-uitkomst", "f-koppelen");
  $("a-soorten").insertAdjacentHTML("beforeend", ["bestuurlijk", "bibob", "strafrechtelijk", "fiscaal", "overig"]
    .map((k) => `<label><input type="checkbox" value="${k}"> ${k}</label>`).join(" "));
  $("a-geven").onclick = () => geef("advies", $("a-geven"), () => ({casus_id: huidigeCasus, advies_id: $("a-id").value.trim(),
    soorten: [...document.querySelectorAll("#a-soorten input:checked")].map((x) => x.value),
    uitvoerder: $("a-uitvoerder").value, coordinator: $("a-coordinator").value}), "c-uitkomst", "f-advies");
  $("p-registreren").onclick = () => geef("afpakken", $("p-registreren"), () => ({casus_id: huidigeCasus, soort: $("p-soort").value,
    domein: $("p-domein").value, bedrag_eurocent: Math.round(parseFloat($("p-bedrag").value.replace(",", ".")) * 100)}), "c-uitkomst", "f-afpakken");
  $("s-afsluiten").onclick = () => geef("afsluiten", $("s-afsluiten"), () => ({casus_id: huidigeCasus, reden: $("s-reden").value}), "c-uitkomst", "f-afsluiten");
  $("f-toepassen").onclick = () => { etag = null; laadInbox().catch(stil); };
  $("meer").onclick = () => laadInbox(true).catch(stil);
  const dit = new Date().getFullYear();
  $("jaar").innerHTML = [dit, dit - 1, dit - 2].map((j) => `<option>${j}</option>`).join("");
  $("jaar").onchange = () => laadJaarverslag().catch(stil);
  // Links are plain fragments (#signaal=…, #casus=…): the same link again, in this tab or pasted, opens it.
  $("dashboard").onclick = (e) => {
    const a = e.target.closest("a.signaal, a.casus");
    if (!a) return;
    e.preventDefault();
    const doel = `#${a.classList.contains("signaal") ? "signaal" : "casus"}=${encodeURIComponent(a.dataset.id)}`;
    if (location.hash === doel) volgFragment(); else location.hash = doel;
  };
}

async function laadCasussen() {
  const d = (await api(`/api/v1/riec/${sessie.riec}/casussen`)).data;
  $("kpi-open").textContent = getal(d.items.filter((c) => c.status !== "afgesloten").length);
  const door = (c) => c.inbrengers.length ? c.inbrengers.map((o) => `<span title="${esc(o)}">${esc(partnerNaam(o))}</span>`).join(", ")
    : c.bron === "ondermijningsbeeld" ? "uit een ondermijningsbeeld" : "–";
  $("casussen").innerHTML = d.items.slice(0, 25).map((c) => `<tr><td>${casusLink(c.casus_id)}<div class="reden">${esc(c.naam)}</div></td>
      <td class="status ${esc(c.status)}">${esc(STATUS[c.status] || c.status)}</td><td>${tags(c.themas)}</td>
      <td>${door(c)}</td><td>${datum(c.laatst_gewijzigd)}</td></tr>`).join("")
    || `<tr><td colspan="5" class="leeg">Geen casussen.</td></tr>`;
}

async function laadJaarverslag() {
  const jaar = $("jaar").value;
  const d = (await api(`/api/v1/riec/${sessie.riec}/jaarverslag/${jaar}`)).data;
  const t = d.tabel1, g = d.tabel2;
  $("eenheid").textContent = d.eenheid === sessie.riec ? "" : `geteld voor ${naam("eenheden", d.eenheid)}`;
  const rij = (label, n, inspring) => `<tr><td${inspring ? ' class="inspring"' : ""}>${esc(label)}</td><td class="num">${esc(n)}</td></tr>`;
  $("jaarverslag").innerHTML = [
    rij("1 Opgeleverde ondermijningsbeelden", getal(t.ondermijningsbeelden)),
    rij("2 Behandelde RIEC-casussen", getal(t.casussen)),
    rij("a Voortgekomen uit ondermijningsbeelden", getal(t.casussen_uit_ondermijningsbeeld), 1),
    ...Object.entries(t.ingebracht).map(([k, n]) => rij(`Ingebracht door ${naam("partnergroepen", k)}`, getal(n), 1)),
    rij("3 Thema's in casussen", getal(Object.values(t.themas).reduce((a, b) => a + b, 0))),
    ...Object.entries(t.themas).map(([k, n]) => rij(k, getal(n), 1)),
    rij("4 Interventieadviezen", getal(t.interventieadviezen)),
    ...Object.entries(t.adviezen).map(([k, n]) => rij(k, getal(n), 1)),
    rij("Tabel 2 · Integraal opgelegd", euro(g.opgelegd_eurocent)),
    rij("Tabel 2 · Geïnd en/of verrekend", euro(g.geind_eurocent)),
    rij("Tabel 2 · Beslag gelegd", euro(g.beslag_eurocent)),
  ].join("");
}

async function laadGrafiek() {
  const d = (await api(`/api/v1/riec/${sessie.riec}/weken`)).data;
  const weken = Object.entries(d.per_week).slice(-53);
  if (!weken.length) { $("grafiek").innerHTML = `<p class="leeg">Nog geen signalen.</p>`; return; }
  const max = Math.max(...weken.map(([, n]) => n)), b = 1400, h = 160, w = b / weken.length;
  const balken = weken.map(([week, n], i) => {
    const hoog = Math.max(1, (n / max) * (h - 30));
    const label = i % 4 === 0 ? `<text x="${i * w + w / 2}" y="${h - 2}" text-anchor="middle">${esc(week.slice(5))}</text>` : "";
    return `<rect x="${i * w + 1}" y="${h - 16 - hoog}" width="${w - 2}" height="${hoog}" fill="#154273" rx="2"><title>${esc(week)}: ${n} signalen</title></rect>${label}`;
  }).join("");
  $("grafiek").innerHTML = `<svg viewBox="0 0 ${b} ${h}" width="100%" role="img" aria-label="Signalen per week">${balken}
    <text x="4" y="12">hoogstens ${max} per week</text></svg>`;
}

/** Every part of the page that shows data, again; also what notices a token that stopped working. */
async function ververs() {
  if (!sessie) return;
  try {
    await Promise.all([laadInbox(), laadCasussen(), laadJaarverslag(), laadGrafiek()]);
    $("verbinding").hidden = true;
  } catch (e) { stil(e); }
}

/** Ends the session: the token leaves the tab, and every piece of data leaves the page and its DOM. */
function afmelden(melding) {
  sessie = null; etag = null; volgende = null; huidigSignaal = null; huidigeCasus = null;
  sessionStorage.removeItem("riec-sessie");
  $("dashboard").hidden = true;
  $("dashboard").innerHTML = LEEG;
  bindFormulieren();
  $("titel").textContent = ""; $("wie").textContent = ""; $("afmelden").hidden = true;
  $("verbinding").hidden = true; $("token").value = "";
  if (location.hash) history.replaceState(null, "", location.pathname);
  $("login").hidden = false;
  $("fout").textContent = melding || "";
}

function aanmelden(nieuw) {
  sessie = nieuw;
  sessionStorage.setItem("riec-sessie", JSON.stringify(nieuw));
  $("riec").value = nieuw.riec;
  $("login").hidden = true; $("fout").textContent = "";
  $("dashboard").hidden = false; $("afmelden").hidden = false;
  $("titel").textContent = "· " + naam("riecs", nieuw.riec);
  $("wie").textContent = "Aangemeld voor " + naam("riecs", nieuw.riec);
  ververs();
}

/** The fragment: a login link (#token=…&riec=…, never sent to the server), or a signal or casus to open. */
function volgFragment() {
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get("token") && frag.get("riec")) {
    history.replaceState(null, "", location.pathname);
    aanmelden({token: frag.get("token"), riec: frag.get("riec")});
    return;
  }
  if (!sessie) return;
  if (frag.get("signaal")) toonSignaal(frag.get("signaal")).catch(stil);
  if (frag.get("casus")) toonCasus(frag.get("casus")).catch(stil);
}

async function start() {
  try { NAMEN = await (await fetch("/api/v1/namen")).json(); } catch (e) { /* codes then, not names */ }
  $("riec").innerHTML = Object.keys(NAMEN.riecs).map((r) => `<option value="${esc(r)}">${esc(naam("riecs", r))}</option>`).join("");
  bindFormulieren();
  $("aanmelden").onclick = () => aanmelden({token: $("token").value.trim(), riec: $("riec").value});
  $("afmelden").onclick = () => afmelden("U bent afgemeld.");
  window.addEventListener("hashchange", volgFragment);
  setInterval(ververs, 10000);
  const opgeslagen = sessionStorage.getItem("riec-sessie");
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get("token")) { volgFragment(); return; }
  if (!opgeslagen) { afmelden(); return; }
  aanmelden(JSON.parse(opgeslagen));
  volgFragment();
}
start();
