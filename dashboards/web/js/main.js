// The ops-centre page: sign-in, the park context, a hash router over the views, live updates.
import * as api from "./api.js";
import { chartsDrawn, disposeAll, prefetchEcharts } from "./charts.js";
import { clock, escape, parkDate, setZone, time, zoneLabel } from "./format.js";
import { applyStatic, currentLang, onLangChange, setLang, t } from "./i18n.js";
import "./i18n-ops.js";
import "./i18n-region.js";
import { setReference } from "./limits.js";
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
  operator: ["overview", "plan", "energy", "environment", "safety", "enterprise", "regulator", "region", "reports"],
  readonly: ["overview", "plan", "energy", "environment", "safety", "enterprise", "region", "reports"],
  enterprise: ["enterprise", "reports"],
  // the plan shows a regulator its bureau's devices, read-only
  regulator: ["regulator", "plan", "environment", "safety", "reports"],
};

// A regulator sees the views of its bureau's categories only.
const VIEW_CATEGORIES = { environment: ["emissions", "environment"], safety: ["safety"], energy: ["energy"] };
function viewAllowed(view, categories) {
  const needs = VIEW_CATEGORIES[view];
  return !needs || needs.some((c) => categories.includes(c));
}

// A region instance (parks registered for their packages, none in its own registry): the region
// first. On a park instance the region view shows the park's own published result.
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

const PARK_CODE = /^[a-z0-9][a-z0-9-]{0,62}$/; // the registry's park codes (api/schemas/registry.py)

/** The park the address names (?park=CODE), else the one last shown on this browser. */
function wantedPark() {
  const code = new URLSearchParams(location.search).get("park") || localStorage.getItem("smartpark.park");
  return code && PARK_CODE.test(code) ? code : undefined;
}

/** Columns of an answer ({name: [values]}) as rows. */
function rowsOf(columns) {
  const names = Object.keys(columns);
  const n = names.length ? columns[names[0]].length : 0;
  const rows = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = {};
    for (const k of names) row[k] = columns[k][i];
    rows[i] = row;
  }
  return rows;
}

async function loadContext(parkCode = wantedPark()) {
  // One answer (GET /page/context) while the key is exchanged for a token: a user bound to a
  // park gets it; anyone else the park asked for, else the first.
  const answer = await api.context(parkCode);
  const { me, parks, park, metrics } = answer;
  if (park && me.park_id == null) localStorage.setItem("smartpark.park", park.code);
  setCatalogue(metrics);
  setReference(answer.reference);
  if (park) setZone(park.timezone);
  if (answer.devices_cut) console.warn("the park's device index was cut at the API's bound");
  const metricById = new Map(metrics.map((m) => [m.metric_id, m]));
  const enterprises = rowsOf(answer.enterprises).map((e) => ({ ...e, park_id: park?.park_id }));
  const devices = rowsOf(answer.devices).map((d) => ({
    ...d, metrics: d.metrics.map((id) => metricById.get(id)?.code).filter(Boolean),
  }));
  const entById = new Map(enterprises.map((e) => [e.enterprise_id, e]));
  const devById = new Map(devices.map((d) => [d.device_id, d]));
  return {
    me, park, parks, enterprises, devices, metrics, entById, devById, metricById,
    services: answer.services,
    metricByCode: new Map(metrics.map((m) => [m.code, m])),
    timezone: park?.timezone || "Asia/Shanghai",
    canAck: ["admin", "operator", "enterprise"].includes(me.role), // enterprises acknowledge their own
    views: homeFirst((ROLE_VIEWS[me.role] || ROLE_VIEWS.readonly)
      .filter((v) => viewAllowed(v, me.categories || [])), park),
    names: {
      enterprise: (id) => entById.get(id)?.name,
      device: (id) => deviceName(devById.get(id)),
    },
  };
}

/** Admins and users of several parks pick the park in the header; the choice is kept. */
function parkPicker() {
  if (!ctx.park || ctx.me.park_id != null || ctx.parks.length < 2) {
    return ctx.park ? `<span class="who-park">${escape(ctx.park.name)}</span>` : "";
  }
  const options = ctx.parks.map((p) => `<option value="${escape(p.code)}"${p.park_id === ctx.park.park_id ? " selected" : ""}>${escape(p.name)}</option>`);
  return `<select id="park-select" class="who-park" aria-label="${escape(t("park.select"))}" title="${escape(t("park.select"))}">${options.join("")}</select>`;
}

async function switchPark(code) {
  localStorage.setItem("smartpark.park", code);
  const url = new URL(location.href);
  url.searchParams.set("park", code);
  history.replaceState(null, "", url);
  $("#view").dataset.ready = "0";
  try {
    ctx = await loadContext(code);
  } catch (err) {
    if (err.status === 401) { api.forget(); return showLogin(t("login.failed") + ": " + err.detail); }
    $("#status").textContent = `${t("park.failed")}: ${err.message}`;
    return undefined;
  }
  showContext();
  return route();
}

function showWho() {
  // The user's name is what they were registered with (data, not a label); a narrow screen shows
  // the park only, the rest in the tooltip.
  const who = $("#who");
  who.title = `${ctx.me.name} · ${t("role." + ctx.me.role)}`;
  who.innerHTML = `<span class="user who-detail">${escape(ctx.me.name)} · ${escape(t("role." + ctx.me.role))}</span>`
    + parkPicker();
  who.querySelector("#park-select")?.addEventListener("change", (ev) => { switchPark(ev.target.value).catch(console.error); });
}

/** The header and nav of the context: who, which park, the role's views; the stale banner. */
function showContext() {
  showWho();
  for (const a of document.querySelectorAll("#nav a")) a.hidden = !ctx.views.includes(a.dataset.view);
  $("#nav").hidden = false;
  staleness.start(ctx.services, ctx.park);
}

const viewOfHash = () => location.hash.replace(/^#\//, "").split("?")[0];

async function boot() {
  // While sign-in travels: the view's code, ECharts' bytes if it draws charts, and the time-zone
  // data, which the first zoned date format loads (tens of ms of the main thread).
  VIEWS[viewOfHash()]?.().then((m) => { if (m.drawsCharts) prefetchEcharts(); }).catch(() => {});
  const context = loadContext();
  parkDate();
  try {
    ctx = await context;
  } catch (err) {
    if (err.status === 401) { api.forget(); return showLogin(t("login.failed") + ": " + err.detail); }
    return showLogin(err.message);
  }
  $("#login").hidden = true;
  $("#view").hidden = false;
  $("#logout").hidden = false;
  showContext();
  route();
}

let routing = 0; // a newer route (hash change, park switch) supersedes one still loading

async function route() {
  if (!ctx) return;
  const mine = ++routing;
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
  el.dataset.park = ctx.park?.code ?? "";
  el.dataset.ready = "0";
  const mod = await VIEWS[name]();
  if (mine !== routing) return;
  // The live stream carries what this view shows, nothing more.
  const selection = { ...(mod.liveSelection?.(ctx) ?? { metrics: [], alarms: true }) };
  if (ctx.me.enterprise_id) selection.enterprise_id = ctx.me.enterprise_id;
  live.start(selection);
  // The view asks for its data first; a view with charts has ECharts fetched and evaluated while
  // its answers travel (charts.js), a view without never loads it.
  const handle = await mod.render(el, ctx);
  await chartsDrawn();
  if (mine !== routing) { handle?.destroy?.(); return; }
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
