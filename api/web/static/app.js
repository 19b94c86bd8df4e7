// The workbench shell: sign-in with a lienwatch token, the header (views, language, sign-out) and
// a hash router over the views. Each view talks to /api/v1 through api.js only.
import * as api from "./api.js";
import { alertView } from "./alert.js";
import { language, setLanguage, t } from "./i18n.js";
import * as maps from "./map.js";
import { portfolioView } from "./portfolio.js";
import { queueView } from "./queue.js";
import { esc, problem } from "./ui.js";
import { vehicleView } from "./vehicle.js";

const root = document.getElementById("view");
const header = document.getElementById("header");
let me = null;
let cleanup = null;

function renderHeader() {
  document.title = t("title");
  const links = me
    ? `<a href="#/queue">${esc(t("queue"))}</a>${
        me.families.includes("portfolio") ? ` <a href="#/portfolio">${esc(t("portfolio"))}</a>` : ""
      }`
    : "";
  const user = me
    ? `<span id="who" data-role="${esc(me.role)}">${esc(t("signedInAs", { name: me.name, role: me.role }))}</span>
       <button type="button" id="sign-out">${esc(t("signOut"))}</button>`
    : "";
  header.innerHTML = `<h1>${esc(t("title"))}</h1><nav>${links}</nav>
    <span class="right">${user}<button type="button" id="language">${esc(t("language"))}</button></span>`;
  header.querySelector("#language").addEventListener("click", () => {
    setLanguage(language() === "zh" ? "en" : "zh");
    route();
  });
  header.querySelector("#sign-out")?.addEventListener("click", () => {
    api.setToken(null);
    me = null;
    location.hash = "#/signin";
    route();
  });
}

function signIn(message = "") {
  root.innerHTML = `
    <form class="signin" id="signin">
      <h2>${esc(t("signIn"))}</h2>
      <label>${esc(t("tokenLabel"))}<input name="token" type="password" autocomplete="current-password" required></label>
      <button type="submit">${esc(t("signIn"))}</button>
      <div id="signin-problem">${message}</div>
    </form>`;
  root.querySelector("#signin").addEventListener("submit", async (event) => {
    event.preventDefault();
    api.setToken(event.target.token.value.trim());
    try {
      me = await api.get("/me");
    } catch (error) {
      api.setToken(null);
      root.querySelector("#signin-problem").innerHTML = `<p class="problem" role="alert">${esc(
        t("signInFailed", { msg: error.message }),
      )}</p>`;
      return;
    }
    location.hash = "#/queue";
    route();
  });
}

async function whoAmI() {
  try {
    return await api.get("/me");
  } catch {
    api.setToken(null);
    return null;
  }
}

async function route(known = null) {
  cleanup?.();
  cleanup = null;
  if (!me && api.token()) me = known ?? (await whoAmI());
  renderHeader();
  if (!me) return signIn();
  const [, view, arg] = location.hash.split("/");
  try {
    if (view === "alert" && arg) cleanup = alertView(root, { id: Number(arg), me });
    else if (view === "vehicle" && arg) cleanup = vehicleView(root, { vin: decodeURIComponent(arg), me });
    else if (view === "portfolio") cleanup = portfolioView(root, { me });
    else cleanup = queueView(root, { me });
  } catch (error) {
    root.innerHTML = problem(error);
  }
}

window.addEventListener("hashchange", () => route());
maps.configure();
route(api.token() ? await whoAmI() : null);
// Leaflet is not needed before a map is shown; fetch it once the page is idle.
(window.requestIdleCallback ?? setTimeout)(() => maps.leaflet());
