// The dashboard's script, in a file of its own because the page's CSP allows no inline script.
"use strict";
const RIECS = ["amsterdam-amstelland","den-haag","limburg","midden-nederland","noord-holland","noord-nederland",
               "oost-nederland","rotterdam","zeeland-west-brabant","oost-brabant"];
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const datum = (iso) => iso ? new Date(iso).toLocaleString("nl-NL", {day:"2-digit", month:"short", year:"numeric", hour:"2-digit", minute:"2-digit"}) : "";
const euro = (c) => (c / 100).toLocaleString("nl-NL", {style:"currency", currency:"EUR"});
let sessie = null, volgende = null, etag = null, huidigSignaal = null, huidigeCasus = null, gevraagdSignaal = null;

// The token comes from the URL fragment (never sent to the server) or the form, and stays in this tab.
function leesSessie() {
  const frag = new URLSearchParams(location.hash.slice(1));
  gevraagdSignaal = frag.get("signaal");  // #signaal=<id>: open that signal's detail
  if (frag.get("token") && frag.get("riec")) {
    sessionStorage.setItem("riec-sessie", JSON.stringify({token: frag.get("token"), riec: frag.get("riec")}));
    history.replaceState(null, "", location.pathname);
  }
  const opgeslagen = sessionStorage.getItem("riec-sessie");
  return opgeslagen ? JSON.parse(opgeslagen) : null;
}

async function api(pad, extraHeaders = {}, opties = {}) {
  const r = await fetch(pad, {...opties, headers: {Authorization: "Bearer " + sessie.token, ...extraHeaders}});
  if (r.status === 401) { sessionStorage.removeItem("riec-sessie"); throw new Error((await r.json()).fout); }
  if (r.status === 403 && !opties.method) { sessionStorage.removeItem("riec-sessie"); throw new Error((await r.json()).fout); }
  return r;
}

const tags = (lijst) => lijst.map((t) => `<span class="tag">${esc(t)}</span>`).join("");
const behandeldTekst = (b) => b.map((x) => `<span class="behandeld ${esc(x.status)}">${esc(x.status)} · ${esc(x.casus_id)}</span>`).join(" ");
const redenHtml = (r) => `<div><span class="regel ${esc(r.regel)}">${esc(r.regel.replace("_", " "))}</span><span class="reden">${esc(r.toelichting)}</span></div>`;

function inboxRij(s) {
  return `<tr><td>${datum(s.ontvangen_op)}</td><td><a class="signaal" data-id="${esc(s.signaal_id)}">${esc(s.signaal_id)}</a></td><td>${esc(s.bron)}</td>
          <td>${tags(s.themas)}</td><td>${s.redenen.map(redenHtml).join("")}</td><td>${behandeldTekst(s.behandeling || [])}</td></tr>`;
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
  const d = await r.json();
  if (!meer) {
    etag = r.headers.get("ETag");
    $("inbox").innerHTML = "";
    const t = d.tellingen;
    $("kpi-inbox").textContent = t.totaal.toLocaleString("nl-NL");
    $("kpi-hkp").textContent = t.handhavingsknelpunt.toLocaleString("nl-NL");
    $("kpi-casus").textContent = t.open_casus.toLocaleString("nl-NL");
    $("kpi-behandeld").textContent = (t.behandeld ?? 0).toLocaleString("nl-NL");
    $("f-aantal").textContent = filter ? `(${d.totaal.toLocaleString("nl-NL")} met dit filter)` : "";
  }
  $("inbox").insertAdjacentHTML("beforeend", d.items.length ? d.items.map(inboxRij).join("") : `<tr><td colspan="6" class="leeg">Geen signalen.</td></tr>`);
  volgende = d.volgende;
  $("meer").hidden = !volgende;
}

// A key per form as shown: a double click sends the same key, so the API derives the same command id.
let formulierSleutel = null;
const nieuweSleutel = () => { formulierSleutel = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)); };

async function geef(actie, body, uitkomstVak, knop) {
  const vak = $(uitkomstVak);
  if (knop) knop.disabled = true;
  try {
    const r = await api(`/api/v1/riec/${sessie.riec}/opdrachten/${actie}`,
      {"Content-Type": "application/json", "Idempotency-Key": `${actie}-${formulierSleutel}`},
      {method: "POST", body: JSON.stringify(body)});
    const d = await r.json();
    if (r.status !== 202) { vak.className = "uitkomst geweigerd"; vak.textContent = `Geweigerd: ${d.fout}`; return; }
    vak.className = "uitkomst wachtend"; vak.textContent = `Opdracht ${d.opdracht_id} verstuurd; wacht op de engine …`;
    let u = d;
    for (let i = 0; i < 60 && u.status === "wachtend"; i++) {
      await new Promise((k) => setTimeout(k, 500));
      u = await (await api(d.uitkomst)).json();
    }
    vak.className = "uitkomst " + u.status;
    vak.textContent = u.status === "toegepast" ? `Toegepast: ${d.opdracht_id}`
      : u.status === "geweigerd" ? `Geweigerd (${u.code}): ${u.reden}` : `Nog niet beslist: ${d.opdracht_id}`;
    await new Promise((k) => setTimeout(k, 1500));  // the link's own decision follows the command's
    etag = null;
    await Promise.all([laadInbox(), laadCasussen(), huidigSignaal ? toonSignaal(huidigSignaal, false) : null,
                       huidigeCasus ? toonCasus(huidigeCasus, false) : null]);
  } finally { if (knop) knop.disabled = false; }
}

function subjectTekst(s) {
  const rest = Object.entries(s).filter(([k]) => k !== "type").map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`);
  return `<div class="mono">${esc(s.type)} · ${esc(rest.join(" · "))}</div>`;
}

async function toonSignaal(id, nieuw = true) {
  const r = await api(`/api/v1/riec/${sessie.riec}/signalen/${encodeURIComponent(id)}`);
  const s = await r.json();
  if (r.status !== 200) {
    huidigSignaal = null; $("detail").hidden = false; $("d-id").textContent = id;
    $("d-uitkomst").className = "uitkomst geweigerd"; $("d-uitkomst").textContent = s.fout; return;
  }
  huidigSignaal = id; nieuweSleutel();
  if (nieuw) $("d-uitkomst").textContent = "";
  $("detail").hidden = false;
  $("d-id").textContent = s.signaal_id;
  $("d-omschrijving").textContent = s.omschrijving;
  $("d-bron").textContent = s.bron;
  $("d-waargenomen").textContent = s.waargenomen_op;
  $("d-gemeld").textContent = `${datum(s.gemeld_op)} / ${datum(s.ontvangen_op)}`;
  const l = s.locatie || {};
  $("d-locatie").textContent = [l.postcode, l.huisnummer, l.gemeente, l.land].filter(Boolean).join(" ") || "–";
  $("d-themas").innerHTML = tags(s.themas);
  $("d-subjecten").innerHTML = s.subjecten.map(subjectTekst).join("") || "–";
  $("d-behandeling").innerHTML = behandeldTekst(s.behandeling) || "nog niet behandeld";
  const besloten = Object.fromEntries(s.casussen.map((c) => [c.casus_id, c.koppeling]));
  $("d-redenen").innerHTML = s.redenen.map((x) => {
    const kandidaat = x.casus_id && x.regel === "open_casus";
    if (kandidaat && besloten[x.casus_id]) {
      return `<div class="kandidaat">${redenHtml(x)}<span class="behandeld ${esc(besloten[x.casus_id] === "afgewezen" ? "afgewezen" : "gekoppeld")}">koppeling ${esc(besloten[x.casus_id])}</span></div>`;
    }
    return `<div class="kandidaat">${redenHtml(x)}${kandidaat ? `<button class="klein bevestig" data-casus="${esc(x.casus_id)}">Koppeling bevestigen</button>
      <input class="afwijsreden" data-casus="${esc(x.casus_id)}" placeholder="reden van afwijzen"><button class="klein afwijzen" data-casus="${esc(x.casus_id)}">Afwijzen</button>` : ""}</div>`;
  }).join("");
  $("d-casussen").innerHTML = s.casussen.map((c) => `<div><a class="casus" data-id="${esc(c.casus_id)}">${esc(c.casus_id)}</a> ${esc(c.naam)} · casus ${esc(c.status)} · koppeling <b>${esc(c.koppeling)}</b></div>`).join("") || `<span class="leeg">Nog aan geen casus gekoppeld.</span>`;
  for (const b of document.querySelectorAll("#d-redenen button.bevestig")) {
    b.onclick = () => geef("koppelen", {casus_id: b.dataset.casus, signaal_id: id}, "d-uitkomst", b);
  }
  for (const b of document.querySelectorAll("#d-redenen button.afwijzen")) {
    const reden = document.querySelector(`#d-redenen input.afwijsreden[data-casus="${CSS.escape(b.dataset.casus)}"]`);
    b.onclick = () => geef("afwijzen", {casus_id: b.dataset.casus, signaal_id: id, reden: reden.value}, "d-uitkomst", b);
  }
  for (const a of document.querySelectorAll("#d-casussen a.casus")) a.onclick = () => toonCasus(a.dataset.id);
  if (nieuw) $("detail").scrollIntoView();
}

async function toonCasus(id, nieuw = true) {
  const r = await api(`/api/v1/riec/${sessie.riec}/casussen/${encodeURIComponent(id)}`);
  const c = await r.json();
  if (r.status !== 200) { $("c-uitkomst").textContent = c.fout; return; }
  huidigeCasus = id; nieuweSleutel();
  if (nieuw) $("c-uitkomst").textContent = "";
  $("casusdetail").hidden = false;
  $("c-id").textContent = `${c.casus_id} · ${c.naam}`;
  $("c-status").textContent = c.status; $("c-status").className = "status " + c.status;
  $("c-tijdlijn").innerHTML = c.tijdlijn.map((e) => `<div>${datum(e.tijd)} · <b>${esc(e.gebeurtenis)}</b> ${esc(e.signaal_id || e.advies_id || e.reden || "")}${e.auteur ? ` <span class="reden">door ${esc(e.auteur)}</span>` : ""}</div>`).join("");
  if (nieuw) $("casusdetail").scrollIntoView();
}

function bindFormulieren() {
  $("d-sluit").onclick = () => { $("detail").hidden = true; huidigSignaal = null; };
  $("c-sluit").onclick = () => { $("casusdetail").hidden = true; huidigeCasus = null; };
  $("o-openen").onclick = async () => {
    const s = await (await api(`/api/v1/riec/${sessie.riec}/signalen/${encodeURIComponent(huidigSignaal)}`)).json();
    geef("openen", {casus_id: $("o-casus").value.trim(), naam: $("o-naam").value, bron: "inbreng", signalen: [huidigSignaal], themas: s.themas}, "d-uitkomst", $("o-openen"));
  };
  $("k-koppelen").onclick = () => geef("koppelen", {casus_id: $("k-casus").value.trim(), signaal_id: huidigSignaal}, "d-uitkomst", $("k-koppelen"));
  $("a-soorten").innerHTML = ["bestuurlijk", "bibob", "strafrechtelijk", "fiscaal", "overig"].map((k) => `<label><input type="checkbox" value="${k}"> ${k}</label>`).join(" ");
  $("a-geven").onclick = () => geef("advies", {casus_id: huidigeCasus, advies_id: $("a-id").value.trim(),
    soorten: [...document.querySelectorAll("#a-soorten input:checked")].map((x) => x.value),
    uitvoerder: $("a-uitvoerder").value, coordinator: $("a-coordinator").value}, "c-uitkomst", $("a-geven"));
  $("p-registreren").onclick = () => geef("afpakken", {casus_id: huidigeCasus, soort: $("p-soort").value, domein: $("p-domein").value,
    bedrag_eurocent: Math.round(parseFloat($("p-bedrag").value.replace(",", ".")) * 100)}, "c-uitkomst", $("p-registreren"));
  $("s-afsluiten").onclick = () => geef("afsluiten", {casus_id: huidigeCasus, reden: $("s-reden").value}, "c-uitkomst", $("s-afsluiten"));
  $("f-toepassen").onclick = () => { etag = null; laadInbox().catch((e) => toonLogin(e.message)); };
  $("inbox").onclick = (e) => { const a = e.target.closest("a.signaal"); if (a) toonSignaal(a.dataset.id); };
  $("casussen").onclick = (e) => { const a = e.target.closest("a.casus"); if (a) toonCasus(a.dataset.id); };
}

async function laadCasussen() {
  const d = await (await api(`/api/v1/riec/${sessie.riec}/casussen`)).json();
  $("kpi-open").textContent = d.items.filter((c) => c.status !== "afgesloten").length;
  $("casussen").innerHTML = d.items.slice(0, 25).map((c) => `<tr><td><a class="casus" data-id="${esc(c.casus_id)}">${esc(c.casus_id)}</a><div class="reden">${esc(c.naam)}</div></td>
      <td class="status ${esc(c.status)}">${esc(c.status)}</td><td>${c.themas.map((t) => `<span class="tag">${esc(t)}</span>`).join("")}</td>
      <td>${esc(c.inbreng_partnergroepen.join(", ") || c.bron)}</td><td>${datum(c.laatst_gewijzigd)}</td></tr>`).join("")
    || `<tr><td colspan="5" class="leeg">Geen casussen.</td></tr>`;
}

async function laadJaarverslag() {
  const jaar = $("jaar").value;
  const d = await (await api(`/api/v1/riec/${sessie.riec}/jaarverslag/${jaar}`)).json();
  const t = d.tabel1, g = d.tabel2;
  $("eenheid").textContent = d.eenheid;
  const rij = (label, n, inspring) => `<tr><td${inspring ? ' class="inspring"' : ""}>${label}</td><td class="num">${n}</td></tr>`;
  $("jaarverslag").innerHTML = [
    rij("1 Opgeleverde ondermijningsbeelden", t.ondermijningsbeelden),
    rij("2 Behandelde RIEC-casussen", t.casussen),
    rij("a Voortgekomen uit ondermijningsbeelden", t.casussen_uit_ondermijningsbeeld, 1),
    ...Object.entries(t.ingebracht).map(([k, n]) => rij(`Ingebracht door ${k}`, n, 1)),
    rij("3 Thema's in casussen", Object.values(t.themas).reduce((a, b) => a + b, 0)),
    ...Object.entries(t.themas).map(([k, n]) => rij(k, n, 1)),
    rij("4 Interventieadviezen", t.interventieadviezen),
    ...Object.entries(t.adviezen).map(([k, n]) => rij(k, n, 1)),
    rij("Tabel 2 · Integraal opgelegd", euro(g.opgelegd_eurocent)),
    rij("Tabel 2 · Geïnd en/of verrekend", euro(g.geind_eurocent)),
    rij("Tabel 2 · Beslag gelegd", euro(g.beslag_eurocent)),
  ].join("");
}

async function laadGrafiek() {
  const d = await (await api(`/api/v1/riec/${sessie.riec}/weken`)).json();
  const weken = Object.entries(d.per_week).slice(-53);
  if (!weken.length) { $("grafiek").innerHTML = `<p class="leeg">Nog geen signalen.</p>`; return; }
  const max = Math.max(...weken.map(([, n]) => n)), b = 1400, h = 160, w = b / weken.length;
  const balken = weken.map(([week, n], i) => {
    const hoog = Math.max(1, (n / max) * (h - 30));
    const label = i % 4 === 0 ? `<text x="${i * w + w / 2}" y="${h - 2}" text-anchor="middle">${week.slice(5)}</text>` : "";
    return `<rect x="${i * w + 1}" y="${h - 16 - hoog}" width="${w - 2}" height="${hoog}" fill="#154273" rx="2"><title>${week}: ${n} signalen</title></rect>${label}`;
  }).join("");
  $("grafiek").innerHTML = `<svg viewBox="0 0 ${b} ${h}" width="100%" role="img" aria-label="Signalen per week">${balken}
    <text x="4" y="12">max ${max} per week</text></svg>`;
}

async function ververs() {
  try {
    await Promise.all([laadInbox(), laadCasussen(), laadJaarverslag(), laadGrafiek()]);
  } catch (e) { toonLogin(e.message); }
}

function toonLogin(fout) {
  $("dashboard").hidden = true; $("login").hidden = false; $("fout").textContent = fout || "";
}

function start() {
  $("riec").innerHTML = RIECS.map((r) => `<option>${r}</option>`).join("");
  const dit = new Date().getFullYear();
  $("jaar").innerHTML = [dit, dit - 1, dit - 2].map((j) => `<option>${j}</option>`).join("");
  $("jaar").onchange = laadJaarverslag;
  $("meer").onclick = () => laadInbox(true);
  bindFormulieren();
  $("aanmelden").onclick = () => {
    sessionStorage.setItem("riec-sessie", JSON.stringify({token: $("token").value.trim(), riec: $("riec").value}));
    start();
  };
  sessie = leesSessie();
  if (!sessie) { toonLogin(); return; }
  $("login").hidden = true; $("dashboard").hidden = false;
  $("titel").textContent = "· RIEC " + sessie.riec;
  $("wie").textContent = "aangemeld als riec:" + sessie.riec;
  ververs();
  if (gevraagdSignaal) toonSignaal(gevraagdSignaal).catch((e) => toonLogin(e.message));
  setInterval(() => laadInbox().catch(() => {}), 10000);
}
start();
