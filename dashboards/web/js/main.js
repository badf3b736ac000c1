// The ops-centre page: sign-in, the park context, a hash router over the views, live updates.
import * as api from "./api.js";
import { disposeAll } from "./charts.js";
import { escape } from "./format.js";
import { applyStatic, currentLang, onLangChange, setLang, t } from "./i18n.js";
import { loadReference } from "./limits.js";
import * as live from "./live.js";
import * as staleness from "./staleness.js";

const VIEWS = {
  overview: () => import("./views/overview.js"),
  energy: () => import("./views/energy.js"),
  environment: () => import("./views/environment.js"),
  safety: () => import("./views/safety.js"),
  enterprise: () => import("./views/enterprise.js"),
  regulator: () => import("./views/regulator.js"),
};
const REFRESH_MS = 60_000;

// Which views each role sees, the first one being its home.
const ROLE_VIEWS = {
  admin: ["overview", "energy", "environment", "safety", "enterprise", "regulator"],
  operator: ["overview", "energy", "environment", "safety", "enterprise", "regulator"],
  readonly: ["overview", "energy", "environment", "safety", "enterprise"],
  enterprise: ["enterprise"],
  regulator: ["regulator", "environment", "safety"],
};

// A regulator sees the views of its bureau's categories only.
const VIEW_CATEGORIES = { environment: ["emissions", "environment"], safety: ["safety"], energy: ["energy"] };
function viewAllowed(view, categories) {
  const needs = VIEW_CATEGORIES[view];
  return !needs || needs.some((c) => categories.includes(c));
}

const $ = (sel) => document.querySelector(sel);
let ctx = null;
let current = null; // {name, handle}
let refreshTimer = null;

function setStatus(text) {
  $("#status").textContent = text;
}

function showLogin(message = "") {
  live.stop();
  staleness.stop();
  $("#nav").hidden = true;
  $("#view").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#api-key").focus();
}

async function loadContext() {
  const me = await api.me();
  const parks = await api.parks();
  const park = parks.find((p) => p.park_id === me.park_id) || parks[0] || null;
  const [enterprises, devices, metrics] = park
    ? await Promise.all([api.enterprises(park.park_id), api.devices({ park_id: park.park_id }), api.metrics()])
    : [[], [], await api.metrics()];
  await loadReference(park ? { park_id: park.park_id } : {});
  const entById = new Map(enterprises.map((e) => [e.enterprise_id, e]));
  const devById = new Map(devices.map((d) => [d.device_id, d]));
  return {
    me, park, parks, enterprises, devices, metrics, entById, devById,
    metricByCode: new Map(metrics.map((m) => [m.code, m])),
    metricById: new Map(metrics.map((m) => [m.metric_id, m])),
    timezone: park?.timezone || "Asia/Shanghai",
    canAck: ["admin", "operator", "enterprise"].includes(me.role), // enterprises acknowledge their own
    views: (ROLE_VIEWS[me.role] || ROLE_VIEWS.readonly).filter((v) => viewAllowed(v, me.categories || [])),
    names: {
      enterprise: (id) => entById.get(id)?.name,
      device: (id) => { const d = devById.get(id); return d && d.name && d.name !== d.code ? `${d.name} (${d.code})` : d?.code; },
    },
  };
}

function showWho() {
  $("#who").textContent = `${ctx.me.name} · ${t("role." + ctx.me.role)}${ctx.park ? " · " + ctx.park.name : ""}`;
}

async function boot() {
  try {
    ctx = await loadContext();
  } catch (err) {
    if (err.status === 401) { api.forget(); return showLogin(t("login.failed") + ": " + err.detail); }
    return showLogin(err.message);
  }
  $("#login").hidden = true;
  $("#view").hidden = false;
  $("#logout").hidden = false;
  showWho();
  for (const a of document.querySelectorAll("#nav a")) a.hidden = !ctx.views.includes(a.dataset.view);
  $("#nav").hidden = false;
  live.start(ctx.me.enterprise_id ? { enterprise_id: ctx.me.enterprise_id } : ctx.park ? { park_id: ctx.park.park_id } : {});
  staleness.start();
  route();
}

async function route() {
  if (!ctx) return;
  let name = location.hash.replace(/^#\//, "").split("?")[0];
  if (!ctx.views.includes(name)) {
    name = ctx.views[0];
    history.replaceState(null, "", `#/${name}`);
  }
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === name);
  current?.handle?.destroy?.();
  current = null; // no live events into a view whose DOM is gone
  disposeAll();
  clearInterval(refreshTimer);
  const el = $("#view");
  el.innerHTML = `<div class="empty">${t("common.loading")}</div>`;
  el.dataset.view = name;
  const mod = await VIEWS[name]();
  const handle = await mod.render(el, ctx);
  current = { name, handle };
  el.dataset.ready = "1";
  setStatus(`${t("common.updated")} ${new Date().toLocaleTimeString(currentLang() === "zh" ? "zh-CN" : "en-GB", { hour12: false })}`);
  if (handle?.refresh) refreshTimer = setInterval(() => handle.refresh().catch(console.error), REFRESH_MS);
}

live.subscribe((event) => current?.handle?.onEvent?.(event));
live.onState((on) => {
  const el = $("#live");
  el.classList.toggle("on", on);
  el.classList.toggle("off", !on);
  el.querySelector("span").dataset.i18n = on ? "live.on" : "live.off";
  el.querySelector("span").textContent = t(on ? "live.on" : "live.off");
});

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const key = $("#api-key").value;
  try {
    await api.login(key);
    $("#api-key").value = "";
    await boot();
  } catch (err) {
    $("#login-error").textContent = `${t("login.failed")}: ${escape(err.detail || err.message)}`;
  }
});
$("#logout").addEventListener("click", () => { api.forget(); ctx = null; showLogin(); });
$("#lang").addEventListener("click", () => setLang(currentLang() === "zh" ? "en" : "zh"));
onLangChange((lang) => {
  $("#lang").textContent = lang === "zh" ? "EN" : "中文";
  if (ctx) { showWho(); route(); }
});
window.addEventListener("hashchange", route);
setInterval(() => { $("#clock").textContent = new Date().toLocaleString(currentLang() === "zh" ? "zh-CN" : "en-GB", { hour12: false }); }, 1000);

applyStatic(document);
$("#lang").textContent = currentLang() === "zh" ? "EN" : "中文";
if (api.storedKey()) boot(); else showLogin();
