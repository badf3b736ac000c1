// Live updates: the API's WebSocket stream when it answers, polling of the latest values when
// it does not, so a view keeps moving either way. Subscribers get {type, ...} events.
// The selection is the view's: {metrics: [codes], devices: [ids], enterprise_id, alarms}, so
// the stream carries the series the view shows and not every reading of the park.
import { currentToken, latest } from "./api.js";

const subscribers = new Set();
let socket = null;
let pollTimer = null;
let stateFn = () => {};
let stopped = true;
let generation = 0; // a view switch starts a new stream; a late answer of the old one is dropped

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

function emit(event) {
  for (const fn of subscribers) {
    try { fn(event); } catch (err) { console.error("live subscriber failed", err); }
  }
}

export function onState(fn) {
  stateFn = fn;
}

export async function start(selection = {}) {
  stop();
  stopped = false;
  const mine = ++generation;
  try {
    await openSocket(selection, mine);
  } catch {
    if (mine === generation) startPolling(selection);
  }
}

export function stop() {
  stopped = true;
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  stateFn(false);
}

async function openSocket(selection, mine) {
  const token = await currentToken();
  const url = new URL("/api/v1/live", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token); // browsers cannot set headers on a WebSocket
  await new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let opened = false;
    ws.onopen = () => {
      if (mine !== generation) { ws.onclose = null; ws.close(); resolve(); return; }
      ws.send(JSON.stringify(wire(selection)));
      opened = true; socket = ws; stateFn(true); resolve();
    };
    ws.onerror = () => { if (!opened) reject(new Error("live stream unavailable")); };
    ws.onmessage = (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch { return; }
      for (const event of Array.isArray(data) ? data : [data]) {
        if (event.type === "error") console.warn("live stream:", event.detail);
        emit(event);
      }
    };
    ws.onclose = () => {
      socket = null;
      stateFn(false);
      if (!opened) return reject(new Error("live stream closed"));
      if (!stopped && mine === generation) setTimeout(() => { if (mine === generation) start(selection); }, 3000); // reconnect after a drop
    };
  });
}

/** The stream's selection message: only the fields the API knows, none left undefined. */
function wire(selection) {
  const out = { alarms: selection.alarms !== false };
  for (const k of ["metrics", "devices", "enterprise_id"]) if (selection[k] != null) out[k] = selection[k];
  return out;
}

function startPolling(selection) {
  let since = null;
  const query = { enterprise_id: selection.enterprise_id, device_id: selection.devices, metric: selection.metrics };
  if (selection.metrics && !selection.metrics.length) return; // nothing to poll for this view
  const tick = async () => {
    try {
      const rows = await latest(query);
      const items = Array.isArray(rows) ? rows : rows.items || [];
      const fresh = since ? items.filter((r) => r.ts > since) : items;
      for (const r of items) if (!since || r.ts > since) since = r.ts;
      for (const r of fresh) emit({ type: "reading", ...r });
      stateFn(true);
    } catch {
      stateFn(false);
    }
  };
  tick();
  pollTimer = setInterval(tick, 5000);
}
