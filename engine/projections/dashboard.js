// The dashboard's script, in a file of its own because the page's CSP allows no inline script.
"use strict";
const RIECS = ["amsterdam-amstelland","den-haag","limburg","midden-nederland","noord-holland","noord-nederland",
               "oost-nederland","rotterdam","zeeland-west-brabant","oost-brabant"];
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const datum = (iso) => iso ? new Date(iso).toLocaleString("nl-NL", {day:"2-digit", month:"short", year:"numeric", hour:"2-digit", minute:"2-digit"}) : "";
const euro = (c) => (c / 100).toLocaleString("nl-NL", {style:"currency", currency:"EUR"});
let sessie = null, volgende = null, etag = null;

// The token comes from the URL fragment (never sent to the server) or the form, and stays in this tab.
function leesSessie() {
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get("token") && frag.get("riec")) {
    sessionStorage.setItem("riec-sessie", JSON.stringify({token: frag.get("token"), riec: frag.get("riec")}));
    history.replaceState(null, "", location.pathname);
  }
  const opgeslagen = sessionStorage.getItem("riec-sessie");
  return opgeslagen ? JSON.parse(opgeslagen) : null;
}

async function api(pad, extraHeaders = {}) {
  const r = await fetch(pad, {headers: {Authorization: "Bearer " + sessie.token, ...extraHeaders}});
  if (r.status === 401 || r.status === 403) { sessionStorage.removeItem("riec-sessie"); throw new Error((await r.json()).fout); }
  return r;
}

function inboxRij(s) {
  const redenen = s.redenen.map((r) => `<div><span class="regel ${esc(r.regel)}">${esc(r.regel.replace("_", " "))}</span><span class="reden">${esc(r.toelichting)}</span></div>`).join("");
  return `<tr><td>${datum(s.ontvangen_op)}</td><td>${esc(s.signaal_id)}</td><td>${esc(s.bron)}</td>
          <td>${s.themas.map((t) => `<span class="tag">${esc(t)}</span>`).join("")}</td><td>${redenen}</td></tr>`;
}

async function laadInbox(meer = false) {
  const pad = `/api/v1/riec/${sessie.riec}/inbox?limit=50` + (meer && volgende ? `&voor=${volgende}` : "");
  const r = await api(pad, meer || !etag ? {} : {"If-None-Match": etag});
  if (r.status === 304) return;
  const d = await r.json();
  if (!meer) {
    etag = r.headers.get("ETag");
    $("inbox").innerHTML = "";
    const regels = d.items.flatMap((s) => s.redenen.map((x) => x.regel));
    $("kpi-inbox").textContent = d.totaal.toLocaleString("nl-NL");
    $("kpi-hkp").textContent = regels.filter((x) => x === "handhavingsknelpunt").length;
    $("kpi-casus").textContent = regels.filter((x) => x === "open_casus").length;
  }
  $("inbox").insertAdjacentHTML("beforeend", d.items.length ? d.items.map(inboxRij).join("") : `<tr><td colspan="5" class="leeg">Geen signalen.</td></tr>`);
  volgende = d.volgende;
  $("meer").hidden = !volgende;
}

async function laadCasussen() {
  const d = await (await api(`/api/v1/riec/${sessie.riec}/casussen`)).json();
  $("kpi-open").textContent = d.items.filter((c) => c.status !== "afgesloten").length;
  $("casussen").innerHTML = d.items.slice(0, 25).map((c) => `<tr><td><b>${esc(c.casus_id)}</b><div class="reden">${esc(c.naam)}</div></td>
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
  setInterval(() => laadInbox().catch(() => {}), 10000);
}
start();
