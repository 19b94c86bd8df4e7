// Supervisors' portfolio: open alerts by kind × bucket, device figures, a clustered map of open
// alerts (at each loan's home point, as precise as the API shows it) and a CSV export.
import * as api from "./api.js";
import { t } from "./i18n.js";
import * as maps from "./map.js";
import { BUCKETS, KINDS, esc, problem } from "./ui.js";

// A cell a spreadsheet will not run as a formula (a leading = + - @ is quoted away).
function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows) {
  return rows.map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}

function grid(stats) {
  const kinds = KINDS.filter((k) => stats.open_alerts[k]);
  const head = `<tr><th>${esc(t("kind"))}</th>${BUCKETS.map((b) => `<th>${b}</th>`).join("")}<th>${esc(t("total"))}</th></tr>`;
  const body = kinds.map((k) => {
    const row = stats.open_alerts[k];
    const total = BUCKETS.reduce((n, b) => n + (row[b] ?? 0), 0);
    return `<tr data-kind="${k}"><th>${esc(t(`k_${k}`))}</th>${BUCKETS.map((b) => `<td class="num">${row[b] ?? ""}</td>`).join("")}<td class="num">${total}</td></tr>`;
  });
  return `<table class="grid" id="grid">${head}${body.join("")}</table>`;
}

export function portfolioView(root) {
  root.innerHTML = `<p>${esc(t("loading"))}</p>`;
  let map;
  (async () => {
    let stats;
    try {
      stats = await api.get("/portfolio/stats");
    } catch (error) {
      root.innerHTML = problem(error);
      return;
    }
    root.innerHTML = `
      <section class="portfolio">
        <h2>${esc(t("portfolio"))}</h2>
        <p class="figures">${esc(t("devicesActive"))} <b>${stats.devices_active}</b> ·
          ${esc(t("devicesOffline"))} <b>${stats.devices_offline}</b> ·
          ${esc(t("inRiskZones"))} <b>${stats.vehicles_in_risk_zones}</b></p>
        <h3>${esc(t("openAlerts"))}</h3>${grid(stats)}
        <p><button type="button" id="export">${esc(t("export"))}</button></p>
        <h3>${esc(t("alertMap"))}</h3><div class="map" id="map"></div>
      </section>`;
    map = await maps.create(root.querySelector("#map"));
    const [alerts, loans] = await Promise.all([
      api.all("/alerts", { limit: 500 }, 5000),
      api.all("/loans", { limit: 500 }, 20000),
    ]);
    const homes = new Map(loans.map((l) => [l.loan_id, l]));
    const L = window.L; // loaded by maps.create
    const cluster = L.markerClusterGroup ? L.markerClusterGroup() : L.layerGroup();
    for (const a of alerts) {
      const loan = homes.get(a.loan_id);
      if (loan?.home_lat == null) continue;
      L.marker(maps.shown(loan.home_lat, loan.home_lon), { title: `${a.loan_id} ${t(`k_${a.kind}`)}` })
        .bindPopup(`<a href="#/alert/${a.alert_id}">${esc(a.loan_id)} · ${esc(t(`k_${a.kind}`))}</a>`)
        .addTo(cluster);
    }
    map.addLayer(cluster);
    if (cluster.getLayers().length) maps.fit(map, [cluster]);
    root.querySelector("#map").dataset.markers = String(cluster.getLayers().length);
    root.querySelector("#export").addEventListener("click", () => {
      const rows = [["alert_id", "kind", "severity", "status", "loan_id", "bucket", "days_past_due", "assignee", "opened_at"]];
      for (const a of alerts) rows.push([a.alert_id, a.kind, a.severity, a.status, a.loan_id, a.bucket, a.days_past_due, a.assignee, a.opened_at]);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([toCsv(rows)], { type: "text/csv" }));
      link.download = "open-alerts.csv";
      link.click();
      URL.revokeObjectURL(link.href);
    });
  })();
  return () => map?.remove();
}
