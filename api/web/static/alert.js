// One alert: its plain-language reason, the evidence on a map (fixes, fence or region, home and
// stays), the thresholds that fired, the actions the API allows the role, and the history.
import * as api from "./api.js";
import { t } from "./i18n.js";
import * as maps from "./map.js";
import { evidencePoints, reason, thresholds } from "./reason.js";
import { DISPOSITIONS, LIVE, esc, options, problem, severity, since, when } from "./ui.js";

const PURPOSE = "workbench: reviewing the alert's evidence";
const COLOURS = { fix: "#c0392b", stay: "#e67e22", home: "#27ae60", partner: "#2980b9", from: "#7f8c8d" };

function actions(alert, me) {
  if (!LIVE.includes(alert.status) || !me.families.includes("alerts.work")) return "";
  const dispositions = options(DISPOSITIONS, (d) => t(d), "", "—");
  const ack = alert.status === "open" ? `<button type="button" data-event="acknowledge">${esc(t("acknowledge"))}</button>` : "";
  const assign = me.families.includes("alerts.assign")
    ? `<span class="group"><input name="assignee" placeholder="${esc(t("assigneeName"))}">
       <button type="button" data-event="assign">${esc(t("assign"))}</button></span>`
    : "";
  return `<form class="actions" id="actions">
    ${ack}${assign}
    <span class="group"><select name="disposition" aria-label="${esc(t("disposition"))}">${dispositions}</select>
    <input name="note" placeholder="${esc(t("note"))}">
    <button type="button" data-event="resolve">${esc(t("resolve"))}</button>
    <button type="button" data-event="dismiss">${esc(t("dismiss"))}</button></span>
    <p id="action-problem"></p>
  </form>`;
}

function history(rows) {
  const items = rows.map((h) => {
    const what = h.event ?? h.action ?? h.to_status ?? "";
    const note = [h.from_status && `${h.from_status} → ${h.to_status}`, h.disposition, h.assignee, h.note]
      .filter(Boolean)
      .join(" · ");
    return `<tr><td>${esc(when(h.at ?? h.created_at ?? h.ts))}</td><td>${esc(what)}</td><td>${esc(h.actor)}</td><td>${esc(note)}</td></tr>`;
  });
  return `<table class="history"><thead><tr><th>${esc(t("at"))}</th><th>${esc(t("event"))}</th><th>${esc(t("actor"))}</th><th></th></tr></thead>
    <tbody>${items.join("")}</tbody></table>`;
}

export function alertView(root, { id, me }) {
  root.innerHTML = `<p>${esc(t("loading"))}</p>`;
  let map;
  (async () => {
    let alert;
    try {
      alert = await api.get(`/alerts/${id}`, { purpose: PURPOSE });
    } catch (error) {
      root.innerHTML = `<p><a href="#/queue">${esc(t("back"))}</a></p>${problem(error)}`;
      return;
    }
    const ev = alert.evidence ?? {};
    const location = alert.precise_location ? t("precise") : t("coarseShort");
    root.innerHTML = `
      <section class="alert-detail" data-alert-id="${alert.alert_id}" data-status="${esc(alert.status)}">
        <p><a href="#/queue">← ${esc(t("back"))}</a></p>
        <h2>${severity(alert.severity)} ${esc(t(`k_${alert.kind}`))} · ${esc(alert.loan_id)}
          <small>${esc(t(`s_${alert.status}`))}${alert.assignee ? " · " + esc(alert.assignee) : ""}</small></h2>
        <p class="reason" id="reason">${esc(reason(alert, ev))}</p>
        ${alert.hold_reason ? `<p class="hold">${esc(t("held", { reason: alert.hold_reason }))}</p>` : ""}
        <p class="meta">${esc(t("bucket"))} ${esc(alert.bucket)} · ${esc(t("dpd"))} ${esc(alert.days_past_due)} ·
          ${esc(t("age"))} ${esc(since(alert.opened_at))} ·
          ${alert.vin ? `<a href="#/vehicle/${encodeURIComponent(alert.vin)}">${esc(t("openVehicle"))} ${esc(alert.vin)}</a>` : ""}
          · <span id="precision" data-precise="${alert.precise_location}">${esc(location)}</span></p>
        <div class="map" id="map"></div>
        <div class="columns">
          <div><h3>${esc(t("thresholds"))}</h3><table class="kv" id="thresholds">${thresholds(ev)
            .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
            .join("")}</table></div>
          <div><h3>${esc(t("actions"))}</h3>${actions(alert, me) || `<p>${esc(t("none"))}</p>`}</div>
        </div>
        <h3>${esc(t("history"))}</h3>${history(alert.history ?? [])}
      </section>`;
    // The actions work at once; the map draws its evidence while Leaflet loads.
    const form = root.querySelector("#actions");
    form?.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-event]");
      if (!button) return;
      const body = { event: button.dataset.event };
      if (body.event === "assign") body.assignee = form.assignee.value.trim() || undefined;
      if (body.event === "resolve" || body.event === "dismiss") body.disposition = form.disposition.value || undefined;
      if (form.note.value.trim()) body.note = form.note.value.trim();
      try {
        await api.post(`/alerts/${alert.alert_id}/transitions`, body);
        alertView(root, { id, me });
      } catch (error) {
        root.querySelector("#action-problem").innerHTML = problem(error);
      }
    });
    map = await maps.create(root.querySelector("#map"));
    const drawn = [];
    const points = evidencePoints(ev);
    const fixes = points.filter((p) => p.role === "fix");
    if (fixes.length > 1) drawn.push(maps.line(map, fixes, { color: "#c0392b", weight: 2 }));
    for (const p of points) {
      const title = `${t(p.role === "home" ? "home" : p.role === "stay" ? "stayPoints" : "fixes")} ${p.ts ? when(p.ts) : ""}`;
      drawn.push(maps.marker(map, p.lat, p.lon, { color: COLOURS[p.role], title, radius: p.role === "home" ? 9 : 6 }));
    }
    if (ev.home && ev.threshold_m) drawn.push(maps.ring(map, ev.home.lat, ev.home.lon, ev.threshold_m, { color: "#27ae60" }));
    try {
      if (ev.fence?.id) {
        drawn.push(maps.fence(map, await api.get(`/fences/${ev.fence.id}`)));
      } else if (alert.kind === "relocation" && alert.loan_id) {
        // The loan's bound region, which a relocation is judged against beside the home cluster.
        const regions = await api.get("/fences", { kind: "allowed_region" });
        for (const f of regions.features.filter((f) => f.properties.loan_ids?.includes(alert.loan_id))) {
          drawn.push(maps.fence(map, f, { color: "#16a085" }));
        }
      }
    } catch {
      // the fence was deleted or is not the caller's to read
    }
    maps.fit(map, drawn);
    root.querySelector("#map").dataset.drawn = String(drawn.length);
  })();
  return () => map?.remove();
}
