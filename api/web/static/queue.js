// The work queue: live alerts in the caller's scope, highest priority first, filtered on the
// server (kind, bucket, status, assignee) and in the page (region, search), kept current by the
// alert stream without reloading.
import * as api from "./api.js";
import { t } from "./i18n.js";
import { BUCKETS, KINDS, LIVE, STATUSES, esc, options, problem, severity, since } from "./ui.js";

const MAX_ALERTS = 2000;
const MAX_LOANS = 5000;

function byPriority(a, b) {
  return b.priority - a.priority || b.alert_id - a.alert_id;
}

export function queueView(root, { filters = {} } = {}) {
  const state = {
    alerts: [],
    shown: [], // the alerts whose rows are in the page, in order
    loans: new Map(),
    fresh: new Set(),
    filters: { status: "", ...filters },
    pending: 0,
  };
  root.innerHTML = `
    <section class="queue">
      <form class="filters" id="filters">
        <label>${esc(t("kind"))}<select name="kind">${options(KINDS, (k) => t(`k_${k}`), state.filters.kind)}</select></label>
        <label>${esc(t("bucket"))}<select name="bucket">${options(BUCKETS, (b) => b, state.filters.bucket)}</select></label>
        <label>${esc(t("status"))}<select name="status">${options(STATUSES, (s) => t(`s_${s}`), state.filters.status, t("live"))}</select></label>
        <label>${esc(t("assignee"))}<input name="assignee" size="12" value="${esc(state.filters.assignee)}"></label>
        <label>${esc(t("region"))}<select name="region"><option value="">${esc(t("all"))}</option></select></label>
        <label class="check"><input type="checkbox" name="held"${state.filters.held ? " checked" : ""}>${esc(t("includeHeld"))}</label>
        <label class="grow">${esc(t("search"))}<input name="search" type="search" value="${esc(state.filters.search)}"></label>
      </form>
      <p class="count" id="count">${esc(t("loading"))}</p>
      <div id="problem"></div>
      <div class="alerts" id="alerts" role="table" data-state="loading">
        <div class="head" role="row">
          ${["severity", "kind", "loan", "borrower", "dpd", "bucket", "age", "status", "assignee", "region"]
            .map((k) => `<span role="columnheader">${esc(t(k))}</span>`)
            .join("")}
        </div>
        <div class="rows" role="rowgroup"></div>
      </div>
    </section>`;
  const form = root.querySelector("#filters");
  const body = root.querySelector("#alerts .rows");
  const table = root.querySelector("#alerts");
  const count = root.querySelector("#count");

  function serverParams() {
    const f = state.filters;
    const held = f.held ? "include" : undefined;
    return { kind: f.kind, bucket: f.bucket, status: f.status || undefined, assignee: f.assignee, held, limit: 500 };
  }

  function matches(alert) {
    const f = state.filters;
    if (f.kind && alert.kind !== f.kind) return false;
    if (f.bucket && alert.bucket !== f.bucket) return false;
    if (f.status ? alert.status !== f.status : !LIVE.includes(alert.status)) return false;
    if (f.assignee && alert.assignee !== f.assignee) return false;
    if (!f.held && alert.hold_reason) return false;
    return true;
  }

  function shown(alert) {
    const f = state.filters;
    const loan = state.loans.get(alert.loan_id);
    if (f.region && loan?.bound_region !== f.region) return false;
    if (f.search) {
      const needle = f.search.toLowerCase();
      const hay = [alert.loan_id, alert.vin, loan?.borrower_name, loan?.plate].join(" ").toLowerCase();
      if (!hay.includes(needle)) return false;
    }
    return true;
  }

  function row(a) {
    const loan = state.loans.get(a.loan_id);
    return `<div class="row${state.fresh.has(a.alert_id) ? " fresh" : ""}" role="row" data-alert-id="${a.alert_id}" data-loan-id="${esc(a.loan_id)}" tabindex="0">
      <span role="cell">${severity(a.severity)}</span><span role="cell">${esc(t(`k_${a.kind}`))}</span>
      <span role="cell"><a href="#/alert/${a.alert_id}">${esc(a.loan_id)}</a></span><span role="cell">${esc(loan?.borrower_name)}</span>
      <span role="cell" class="num">${esc(a.days_past_due)}</span><span role="cell">${esc(a.bucket)}</span>
      <span role="cell">${esc(since(a.opened_at))}</span>
      <span role="cell">${esc(t(`s_${a.status}`))}${a.hold_reason ? ` <span class="held" title="${esc(t("held", { reason: a.hold_reason }))}">⚖ ${esc(a.hold_reason)}</span>` : ""}</span>
      <span role="cell">${esc(a.assignee)}</span><span role="cell">${esc(loan?.bound_region)}</span></div>`;
  }

  function render() {
    const started = performance.now();
    state.pending = 0;
    const visible = state.alerts.filter(shown);
    // The next page of a load only adds rows below those shown: append them, keep the rest.
    const kept = state.shown;
    const appends = kept.length > 0 && visible.length > kept.length && kept.every((a, i) => visible[i] === a);
    if (appends) body.insertAdjacentHTML("beforeend", visible.slice(kept.length).map(row).join(""));
    else body.innerHTML = visible.map(row).join("");
    state.shown = visible;
    count.textContent = t("count", { n: visible.length });
    table.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  function schedule() {
    if (!state.pending) state.pending = requestAnimationFrame(render);
  }

  // Each page is shown as it arrives (the first 500 are workable while the rest load).
  async function load() {
    table.dataset.state = "loading";
    const loading = (state.loading = {});
    const found = [];
    try {
      let cursor;
      do {
        const page = await api.get("/alerts", { ...serverParams(), cursor });
        performance.mark(`queue-page-${found.length / 500 + 1}`);
        if (loading !== state.loading) return;
        if (page.items.length || !found.length) {
          found.push(...page.items);
          state.alerts = found.slice().sort(byPriority);
          render();
        }
        cursor = page.next_cursor;
      } while (cursor && found.length < MAX_ALERTS);
      root.querySelector("#problem").innerHTML = "";
    } catch (error) {
      state.alerts = [];
      render();
      root.querySelector("#problem").innerHTML = problem(error);
    }
    table.dataset.state = "ready";
    // Ready once the rows are laid out (reading a size forces the layout); painted one frame later.
    void table.offsetHeight;
    document.body.dataset.queueReady = performance.now().toFixed(0);
    requestAnimationFrame(() => setTimeout(() => (document.body.dataset.queuePainted = performance.now().toFixed(0))));
  }

  // Borrowers and regions come from the loans list (masked by the API as the role requires); the
  // queue is usable before they arrive.
  async function loadLoans() {
    try {
      const loans = await api.all("/loans", { limit: 500 }, MAX_LOANS);
      state.loans = new Map(loans.map((l) => [l.loan_id, l]));
      const regions = [...new Set(loans.map((l) => l.bound_region).filter(Boolean))].sort();
      form.region.innerHTML = options(regions, (r) => r, state.filters.region);
      schedule();
    } catch {
      // a role without loans.read still works the queue
    }
  }

  function onAlert(alert) {
    const at = state.alerts.findIndex((a) => a.alert_id === alert.alert_id);
    if (at >= 0) state.alerts.splice(at, 1);
    if (matches(alert)) {
      if (at < 0) state.fresh.add(alert.alert_id);
      state.alerts.push(alert);
      state.alerts.sort(byPriority);
    }
    schedule();
  }

  form.addEventListener("input", (event) => {
    const name = event.target.name;
    state.filters[name] = event.target.type === "checkbox" ? event.target.checked : event.target.value.trim();
    if (name === "region" || name === "search") schedule();
  });
  form.addEventListener("change", (event) => {
    if (!["region", "search"].includes(event.target.name)) load();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  body.addEventListener("click", (event) => {
    const row = event.target.closest(".row[data-alert-id]");
    if (row && !event.target.closest("a")) location.hash = `#/alert/${row.dataset.alertId}`;
  });
  body.addEventListener("keydown", (event) => {
    const row = event.target.closest(".row[data-alert-id]");
    if (row && event.key === "Enter") location.hash = `#/alert/${row.dataset.alertId}`;
  });

  load().then(loadLoans);
  // Every status and held alerts too: a change that takes an alert out of the view removes its row.
  const stop = api.stream({ held: "include" }, onAlert, load);
  return stop;
}
