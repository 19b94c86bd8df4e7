// The plain-language reason for an alert, from its kind, its evidence and the loan's delinquency:
// what a collector reads first ("parked 3 nights 520 km from home; 92 days past due").
import { t } from "./i18n.js";

function km(metres) {
  return Math.round(metres / 100) / 10;
}

export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dlat = (b.lat - a.lat) * rad;
  const dlon = (b.lon - a.lon) * rad;
  const h = Math.sin(dlat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dlon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

function fenceName(ev) {
  return ev.fence?.name ?? t("fence");
}

function what(kind, ev) {
  switch (kind) {
    case "relocation": {
      const stays = ev.stays ?? [];
      if (ev.home && stays.length) {
        const far = Math.max(...stays.map((s) => distanceM(ev.home, s)));
        return t("r_relocation", { nights: stays.length, km: Math.round(far / 1000) });
      }
      return t("r_relocation_region", { h: Math.round((ev.threshold_s ?? 86400) / 3600) });
    }
    case "risk_zone_dwell":
      return t("r_zone_dwell", { fence: fenceName(ev), min: ev.inside_min ?? "?" });
    case "risk_zone_enter":
      return t("r_zone_enter", { fence: fenceName(ev) });
    case "region_exit":
      return t("r_region_exit", { fence: fenceName(ev) });
    case "long_idle":
      return t("r_idle", { h: ev.stopped_h ?? "?", th: ev.threshold_h ?? 72 });
    case "offline":
      return t("r_offline", { h: ev.silent_h ?? "?" }) + (ev.all_devices_offline ? t("r_offline_all") : "");
    case "power_cut":
    case "tamper":
    case "jamming":
      return t("r_alarm", { alarm: t(`k_${kind}`) }) + (ev.inside_risk_zone ? t("r_in_zone") : "");
    case "device_separation":
      return t("r_separation", { km: km(ev.apart_m ?? 0) });
    case "tow":
      return t("r_tow", { kmh: ev.fix?.speed_kmh ?? ev.min_speed_kmh ?? "?" });
    case "reappeared_far":
      return t("r_reappeared", { h: ev.silent_h ?? "?", km: ev.distance_km ?? "?" });
    case "gps_jump":
      return t("r_jump", { kmh: ev.implied_kmh ?? "?" });
    default:
      return t(`k_${kind}`);
  }
}

export function reason(alert, evidence = {}) {
  const dpd = alert.days_past_due ?? evidence.loan?.days_past_due;
  const debt = dpd ? t("r_dpd", { dpd }) : t("r_current");
  return `${what(alert.kind, evidence)}${t("r_sep")}${debt}`;
}

// The evidence's named points: fixes, stays, home, the partner unit, where it came from.
export function evidencePoints(ev) {
  const out = [];
  const add = (p, role) => {
    if (p && typeof p.lat === "number" && typeof p.lon === "number") out.push({ ...p, role });
  };
  for (const f of ev.fixes ?? []) add(f, "fix");
  add(ev.fix, "fix");
  add(ev.moved_to, "fix");
  for (const s of ev.stays ?? []) add(s, "stay");
  add(ev.home, "home");
  add(ev.partner, "partner");
  add(ev.from, "from");
  add(ev.last, "from");
  add(ev, "fix");
  return out;
}

// The thresholds an alert fired on, as label / value pairs.
export function thresholds(ev) {
  const rows = [];
  for (const [name, value] of Object.entries(ev.thresholds ?? {})) rows.push([name, value]);
  for (const [name, value] of Object.entries(ev)) {
    if (/threshold|^min_|limit|cadence/.test(name) && typeof value !== "object") rows.push([name, value]);
  }
  return rows;
}
