// A banner over every view when alarms or statistics are stale, with since when: polls
// GET /health/services (the services' heartbeats and the jobs that fail) every STALE_POLL_MS.
import * as api from "./api.js";
import { time } from "./format.js";
import { onLangChange, t } from "./i18n.js";

const STALE_POLL_MS = 15_000;
let timer = null;
let last = null;
let shown = null; // the park the page shows: its missing readings only, by name

function since(value) {
  return value === "never" ? t("stale.never") : time(value);
}

function render() {
  const el = document.querySelector("#stale-banner");
  const lines = [];
  if (last?.alarms_stale_since) lines.push(`${t("stale.alarms")} ${since(last.alarms_stale_since)}`);
  if (last?.statistics_stale_since) lines.push(`${t("stale.statistics")} ${since(last.statistics_stale_since)}`);
  for (const m of (last?.alarms_missing ?? []).filter((m) => m.park_id === shown?.park_id)) {
    lines.push(`${t("stale.missing")} ${shown.name} ${time(m.bucket)}: ${m.judged} / ${m.stored}`);
  }
  el.textContent = lines.join(" · ");
  el.hidden = lines.length === 0;
}

async function poll() {
  try {
    last = await api.get("/health/services");
  } catch (err) {
    last = null; // the API itself is away: the live indicator says so
    console.error(err);
  }
  render();
}

/** Poll from now on; `initial` (the services' health the sign-in brought) spares the first call;
 * `park` is the park the page shows. */
export function start(initial = null, park = null) {
  stop();
  shown = park;
  if (initial) { last = initial; render(); } else poll();
  timer = setInterval(poll, STALE_POLL_MS);
}

export function stop() {
  clearInterval(timer);
  timer = null;
  last = null;
  render();
}

onLangChange(render);
