// What the views share: escaping, durations, labels, the vocabularies.
import { t } from "./i18n.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function esc(value) {
  return value === null || value === undefined ? "" : String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function duration(ms) {
  const minutes = Math.max(0, Math.round(ms / 60000));
  if (minutes < 60) return t("minutes", { n: minutes });
  const hours = Math.round(minutes / 60);
  if (hours < 48) return t("hours", { n: hours });
  return t("days", { n: Math.round(hours / 24) });
}

export function since(iso) {
  return iso ? duration(Date.now() - Date.parse(iso)) : "";
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

export const KINDS = [
  "risk_zone_enter", "risk_zone_dwell", "region_exit", "relocation", "long_idle", "offline", "power_cut",
  "tamper", "jamming", "device_separation", "tow", "reappeared_far", "gps_jump",
];
export const BUCKETS = ["M0", "M1", "M2", "M3", "M3+"];
export const LIVE = ["open", "acknowledged", "assigned"];
export const STATUSES = [...LIVE, "resolved", "dismissed"];
export const DISPOSITIONS = ["confirmed", "false_positive", "install_issue", "test", "other"];

export function options(values, label, selected, allLabel = t("all")) {
  const first = `<option value="">${esc(allLabel)}</option>`;
  return (
    first +
    values
      .map((v) => `<option value="${esc(v)}"${v === selected ? " selected" : ""}>${esc(label(v))}</option>`)
      .join("")
  );
}

export function severity(value) {
  return `<span class="sev sev-${esc(value)}">${esc(t(`v_${value}`))}</span>`;
}

export function problem(error) {
  return `<p class="problem" role="alert">${esc(t("error", { msg: error.message }))}</p>`;
}
