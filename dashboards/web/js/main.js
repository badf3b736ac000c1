// The ops-centre page: sign-in, the park context, a hash router over the views, live updates.
import * as api from "./api.js";
import { disposeAll, loadEcharts } from "./charts.js";
import { clock, escape, setZone, time, zoneLabel } from "./format.js";
import { applyStatic, currentLang, onLangChange, setLang, t } from "./i18n.js";
import "./i18n-ops.js";
import "./i18n-region.js";
import { loadReference } from "./limits.js";
import * as live from "./live.js";
import * as staleness from "./staleness.js";
import { deviceName, setCatalogue } from "./names.js";
import { exportFor, exportView } from "./view-export.js";

const VIEWS = {
  overview: () => import("./views/overview.js"),
  energy: () => import("./views/energy.js"),
  environment: () => import("./views/environment.js"),
  safety: () => import("./views/safety.js"),
  enterprise: () => import("./views/enterprise.js"),
  regulator: () => import("./views/regulator.js"),
  plan: () => import("./views/plan.js"),
  device: () => import("./views/device.js"),
  region: () => import("./views/region.js"),
  meters: () => import("./views/meters.js"),
  reports: () => import("./views/reports.js"),
};
// Views reached from others (a device from the plan or a list), never from the nav.
const LINKED_VIEWS = ["device", "meters"];
const REFRESH_MS = 60_000;

// Which views each role sees, the first one being its home.
const ROLE_VIEWS = {
  admin: ["overview", "plan", "energy", "environment", "safety", "enterprise", "regulator", "region", "reports"],
  operator: ["overview", "plan", "energy", "environment", "safety", "enterprise", "regulator", "reports"],
  readonly: ["overview", "plan", "energy", "environment", "safety", "enterprise", "region", "reports"],
  enterprise: ["enterprise", "reports"],
  regulator: ["regulator", "environment", "safety", "reports"],
};

// A regulator sees the views of its bureau's categories only.
const VIEW_CATEGORIES = { environment: ["emissions", "environment"], safety: ["safety"], energy: ["energy"] };
function viewAllowed(view, categories) {
  const needs = VIEW_CATEGORIES[view];
  return !needs || needs.some((c) => categories.includes(c));
}

// A region instance (parks registered for their packages, none in its own registry): the region
// first. Users bound to a park have no region scope, so no region view.
const homeFirst = (views, park) => (park || !views.includes("region") ? views : ["region", ...views.filter((v) => v !== "region")]);

const $ = (sel) => document.querySelector(sel);
let ctx = null;
let current = null; // {name, handle}
let refreshTimer = null;
let updatedAt = null; // when the page last received data: a view's load or a live frame

/** "更新于" follows the data: the view's last load and every live reading after it. */
function markUpdated(ts = Date.now()) {
  if (updatedAt != null && ts <= updatedAt) return;
  updatedAt = ts;
  const el = $("#status");
  el.dataset.updated = String(ts);
  el.textContent = `${t("common.updated")} ${clock(ts)} (${zoneLabel(ts)})`;
}

function showLogin(message = "") {
  live.stop();
  staleness.stop();
  $("#nav").hidden = true;
  $("#view").hidden = true;
  $("#logout").hidden = true;
  $("#export").hidden = true;
  $("#who").textContent = "";
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#api-key").focus();
}

async function loadContext() {
  // Two rounds after the token: who and where (with what needs neither), then the park's tree.
  const metricsP = api.metrics();
  metricsP.catch(() => {}); // awaited below; a failure of me or parks comes first
  const [me, parks] = await Promise.all([api.me(), api.parks()]);
  // A user bound to a park sees it; an admin sees the park the address names (?park=CODE), else
  // the one last shown on this browser, else the first.
  const wanted = new URLSearchParams(location.search).get("park") || localStorage.getItem("smartpark.park");
  const park = parks.find((p) => p.park_id === me.park_id) || parks.find((p) => p.code === wanted) || parks[0] || null;
  if (park && me.park_id == null) localStorage.setItem("smartpark.park", park.code);
  const [enterprises, devices, metrics] = await Promise.all([
    park ? api.enterprises(park.park_id) : [], park ? api.devices({ park_id: park.park_id }) : [], metricsP,
    loadReference(park ? { park_id: park.park_id } : {}),
  ]);
  setCatalogue(metrics);
  if (park) setZone(park.timezone);
  const entById = new Map(enterprises.map((e) => [e.enterprise_id, e]));
  const devById = new Map(devices.map((d) => [d.device_id, d]));
  return {
    me, park, parks, enterprises, devices, metrics, entById, devById,
    metricByCode: new Map(metrics.map((m) => [m.code, m])),
    metricById: new Map(metrics.map((m) => [m.metric_id, m])),
    timezone: park?.timezone || "Asia/Shanghai",
    canAck: ["admin", "operator", "enterprise"].includes(me.role), // enterprises acknowledge their own
    views: homeFirst((ROLE_VIEWS[me.role] || ROLE_VIEWS.readonly)
      .filter((v) => viewAllowed(v, me.categories || []) && (v !== "region" || me.park_id == null)), park),
    names: {
      enterprise: (id) => entById.get(id)?.name,
      device: (id) => deviceName(devById.get(id)),
    },
  };
}

function showWho() {
  // The user's name is what they were registered with (data, not a label); a narrow screen shows
  // the park only, the rest in the tooltip.
  const who = $("#who");
  who.title = `${ctx.me.name} · ${t("role." + ctx.me.role)}`;
  who.innerHTML = `<span class="user who-detail">${escape(ctx.me.name)} · ${escape(t("role." + ctx.me.role))}</span>`
    + (ctx.park ? `<span class="who-park">${escape(ctx.park.name)}</span>` : "");
}

const viewOfHash = () => location.hash.replace(/^#\//, "").split("?")[0];

async function boot() {
  VIEWS[viewOfHash()]?.().catch(() => {}); // the view's code loads while the context does
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
  staleness.start();
  route();
}

async function route() {
  if (!ctx) return;
  let name = viewOfHash();
  if (!ctx.views.includes(name) && !LINKED_VIEWS.includes(name)) {
    name = ctx.views[0];
    history.replaceState(null, "", `#/${name}`);
  }
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === name);
  $("#export").hidden = !exportFor(name, ctx);
  current?.handle?.destroy?.();
  current = null; // no live events into a view whose DOM is gone
  disposeAll();
  clearInterval(refreshTimer);
  const el = $("#view");
  el.innerHTML = `<div class="empty">${t("common.loading")}</div>`;
  el.dataset.view = name;
  el.dataset.ready = "0";
  const mod = await VIEWS[name]();
  // The live stream carries what this view shows, nothing more.
  const selection = { ...(mod.liveSelection?.(ctx) ?? { metrics: [], alarms: true }) };
  if (ctx.me.enterprise_id) selection.enterprise_id = ctx.me.enterprise_id;
  live.start(selection);
  // The view asks for its data first; ECharts is evaluated while the answers travel.
  const rendering = mod.render(el, ctx);
  const [handle] = await Promise.all([rendering, loadEcharts()]);
  current = { name, handle };
  updatedAt = null;
  markUpdated();
  el.dataset.ready = "1";
  if (handle?.refresh) {
    refreshTimer = setInterval(() => handle.refresh().then(() => markUpdated()).catch(console.error), REFRESH_MS);
  }
}

live.subscribe((event) => {
  if (event.type === "reading" || event.type === "alarm") markUpdated(); // fresh data just arrived
  current?.handle?.onEvent?.(event);
});
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
$("#export").addEventListener("click", () => exportView(viewOfHash(), ctx).catch((err) => alert(err.detail || err.message)));
$("#lang").addEventListener("click", () => setLang(currentLang() === "zh" ? "en" : "zh"));
onLangChange((lang) => {
  $("#lang").textContent = lang === "zh" ? "EN" : "中文";
  if (ctx) { showWho(); route(); }
});
window.addEventListener("hashchange", route);
// The park's wall clock, labelled with its zone, whatever zone the browser is in.
setInterval(() => {
  const now = Date.now();
  $("#clock").textContent = `${t("common.park_time")} ${time(now)} ${zoneLabel(now)}`;
}, 1000);

applyStatic(document);
$("#lang").textContent = currentLang() === "zh" ? "EN" : "中文";
if (api.storedKey()) boot(); else showLogin();
