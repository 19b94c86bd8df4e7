// A vehicle: last known position of each device (precise or city-level, as the API allows),
// device status, home, a track replay over a chosen period with a time slider and its stops, and
// locate-now / chase mode for the roles the API lets send commands.
import * as api from "./api.js";
import { t } from "./i18n.js";
import * as maps from "./map.js";
import { distanceM } from "./reason.js";
import { esc, problem, since, when } from "./ui.js";

const PURPOSE = "workbench: locating the collateral";
const CHUNK_MS = 6 * 3600 * 1000; // the API serves every fix of a span up to six hours
const PARALLEL = 4;
const STOP_RADIUS_M = 200; // alerts/thresholds.py: stopped = within 200 m ...
const STOP_MIN_MS = 10 * 60 * 1000; // ... shown as a stop from ten minutes
const STAY_MIN_MS = 6 * 3600 * 1000; // a stay point: parked six hours or more
const COARSE_M = 11000; // one decimal degree, the API's city-level rounding
const TRACK_COLOURS = ["#2c7fb8", "#d95f0e", "#1b9e77", "#7570b3"];

function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

// Every fix of [start, end), read in six-hour spans a few at a time.
export async function fetchTrack(vin, start, end) {
  const spans = [];
  for (let at = start; at < end; at += CHUNK_MS) spans.push([at, Math.min(end, at + CHUNK_MS)]);
  const parts = new Array(spans.length);
  let next = 0;
  async function worker() {
    while (next < spans.length) {
      const i = next++;
      const [from, to] = spans[i];
      const body = await api.get(`/vehicles/${encodeURIComponent(vin)}/track`, {
        start: new Date(from).toISOString(),
        end: new Date(to).toISOString(),
        purpose: PURPOSE,
      });
      parts[i] = body.points;
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, spans.length) }, worker));
  return parts.flat();
}

// Stops: runs of fixes within STOP_RADIUS_M of the run's first fix lasting STOP_MIN_MS or more.
export function stops(points) {
  const found = [];
  let i = 0;
  while (i < points.length) {
    let j = i + 1;
    while (j < points.length && distanceM(points[i], points[j]) <= STOP_RADIUS_M) j++;
    const last = points[j - 1];
    const ms = Date.parse(last.ts) - Date.parse(points[i].ts);
    if (ms >= STOP_MIN_MS) found.push({ lat: points[i].lat, lon: points[i].lon, from: points[i].ts, to: last.ts, ms });
    i = j;
  }
  return found;
}

function device(d) {
  const state = d.online ? t("online") : t("offline");
  const extra = [d.battery_pct != null && `${t("battery")} ${d.battery_pct}%`, d.power_v != null && `${t("power")} ${d.power_v} V`]
    .filter(Boolean)
    .join(" · ");
  return `<tr data-device-id="${esc(d.device_id)}"><td>${esc(d.device_id)}</td><td>${esc(t(d.kind))}</td>
    <td class="${d.online ? "ok" : "bad"}">${esc(state)}</td><td>${esc(when(d.last_fix_at))} (${esc(since(d.last_fix_at))})</td>
    <td>${esc(extra)}</td><td>${esc(d.alarms?.join(", "))}</td></tr>`;
}

export function vehicleView(root, { vin, me }) {
  root.innerHTML = `<p>${esc(t("loading"))}</p>`;
  let map;
  (async () => {
    let status;
    try {
      status = await api.get(`/vehicles/${encodeURIComponent(vin)}`, { purpose: PURPOSE });
    } catch (error) {
      root.innerHTML = `<p><a href="#/queue">${esc(t("back"))}</a></p>${problem(error)}`;
      return;
    }
    const latest = Math.max(Date.now() - 3600000, ...status.devices.map((d) => Date.parse(d.last_fix_at) || 0));
    const commands = me.families.includes("commands") && status.precise_location;
    root.innerHTML = `
      <section class="vehicle" data-vin="${esc(vin)}">
        <p><a href="#/queue">← ${esc(t("back"))}</a></p>
        <h2>${esc(t("vehicle"))} ${esc(vin)} · ${esc(status.plate)} <small>${esc(status.make_model)}</small></h2>
        <p class="meta">${esc(t("loan"))} ${esc(status.loan_id)} · ${esc(t("dpd"))} ${esc(status.days_past_due)} ·
          <span id="precision" data-precise="${status.precise_location}">${esc(
            status.precise_location ? t("precise") : t("coarse", { reason: status.access_reason }),
          )}</span></p>
        <h3>${esc(t("devices"))}</h3>
        <table class="devices"><tbody>${status.devices.map(device).join("")}</tbody></table>
        ${
          commands
            ? `<p class="commands">${status.devices
                .map(
                  (d) => `<span>${esc(d.device_id)}:
                  <button type="button" data-command="locate" data-device="${esc(d.device_id)}">${esc(t("locate"))}</button>
                  <button type="button" data-command="chase_on" data-device="${esc(d.device_id)}">${esc(t("chaseOn"))}</button>
                  <button type="button" data-command="chase_off" data-device="${esc(d.device_id)}">${esc(t("chaseOff"))}</button></span>`,
                )
                .join(" ")}</p>`
            : `<p class="note">${esc(t("chaseNotAllowed"))}</p>`
        }
        <p id="command-result"></p>
        <h3>${esc(t("replay"))}</h3>
        <form class="replay" id="replay">
          <label>${esc(t("from"))}<input type="datetime-local" name="from" value="${localInput(latest - 24 * 3600000)}"></label>
          <label>${esc(t("to"))}<input type="datetime-local" name="to" value="${localInput(latest + 60000)}"></label>
          <button type="submit">${esc(t("show"))}</button>
          <input type="range" name="at" min="0" max="0" value="0" disabled class="grow" aria-label="${esc(t("at"))}">
          <output name="when"></output>
        </form>
        <p id="track-info"></p>
        <div class="map" id="map"></div>
        <h3>${esc(t("stops"))}</h3><table class="stops" id="stops"><tbody></tbody></table>
      </section>`;
    // The map (and Leaflet) may still be loading when "show" is pressed: the form waits for it.
    const mapReady = (async () => {
      map = await maps.create(root.querySelector("#map"));
      const base = [];
      for (const d of status.devices) {
        if (d.lat == null) continue;
        base.push(maps.marker(map, d.lat, d.lon, { color: "#c0392b", radius: 8, title: `${d.device_id} ${when(d.last_fix_at)}` }));
        if (!status.precise_location) base.push(maps.ring(map, d.lat, d.lon, COARSE_M, { color: "#7f8c8d" }));
      }
      if (status.loan_id) {
        try {
          const loan = await api.get(`/loans/${encodeURIComponent(status.loan_id)}`);
          if (loan.home_lat != null) base.push(maps.marker(map, loan.home_lat, loan.home_lon, { color: "#27ae60", radius: 9, title: t("home") }));
        } catch {
          // the loan is not readable by this role
        }
      }
      maps.fit(map, base);
      root.querySelector("#map").dataset.drawn = String(base.length);
      return window.L.layerGroup().addTo(map);
    })();
    const form = root.querySelector("#replay");
    let points = [];
    let cursor;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const track = await mapReady;
      const started = performance.now();
      const info = root.querySelector("#track-info");
      info.textContent = t("loading");
      delete document.body.dataset.replayMs;
      track.clearLayers();
      try {
        points = await fetchTrack(vin, Date.parse(form.from.value), Date.parse(form.to.value));
      } catch (error) {
        info.textContent = t("noTrack", { msg: error.message });
        document.body.dataset.replayMs = "-1";
        return;
      }
      const fetched = performance.now();
      const drawn = [];
      const devices = [...new Set(points.map((p) => p.device_id))];
      devices.forEach((id, i) => {
        const own = points.filter((p) => p.device_id === id);
        drawn.push(maps.line(track, own, { color: TRACK_COLOURS[i % TRACK_COLOURS.length] }));
      });
      const main = points.filter((p) => p.device_id === devices[0]);
      const found = stops(main);
      for (const s of found) {
        const stay = s.ms >= STAY_MIN_MS;
        maps.marker(track, s.lat, s.lon, { color: stay ? "#e67e22" : "#f1c40f", radius: stay ? 7 : 4, title: `${when(s.from)} – ${when(s.to)}` });
      }
      root.querySelector("#stops tbody").innerHTML = found
        .filter((s) => s.ms >= STAY_MIN_MS)
        .map((s) => `<tr><td>${esc(when(s.from))}</td><td>${esc(when(s.to))}</td><td>${esc(Math.round(s.ms / 3600000))} h</td></tr>`)
        .join("");
      points.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
      form.at.max = String(Math.max(0, points.length - 1));
      form.at.value = "0";
      form.at.disabled = points.length === 0;
      cursor = points.length ? maps.marker(track, points[0].lat, points[0].lon, { color: "#000", radius: 7, fill: 1 }) : null;
      if (drawn.length) maps.fit(map, drawn);
      info.textContent = points.length ? t("points", { n: points.length }) : t("replayEmpty");
      requestAnimationFrame(() => {
        const done = performance.now();
        document.body.dataset.replayMs = (done - started).toFixed(0);
        document.body.dataset.replayDrawMs = (done - fetched).toFixed(0);
        document.body.dataset.replayPoints = String(points.length);
      });
    });
    form.at.addEventListener("input", () => {
      const p = points[Number(form.at.value)];
      if (!p || !cursor) return;
      cursor.setLatLng(maps.shown(p.lat, p.lon));
      form.when.value = when(p.ts);
    });
    root.querySelector(".commands")?.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-command]");
      if (!button) return;
      const out = root.querySelector("#command-result");
      try {
        await api.post(`/devices/${encodeURIComponent(button.dataset.device)}/commands`, { command: button.dataset.command, purpose: PURPOSE });
        out.textContent = t("commandSent", { cmd: t(button.dataset.command === "locate" ? "locate" : button.dataset.command === "chase_on" ? "chaseOn" : "chaseOff") });
      } catch (error) {
        out.innerHTML = problem(error);
      }
    });
  })();
  return () => map?.remove();
}
