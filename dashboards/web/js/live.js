// Live updates: the API's WebSocket stream when it answers, polling of the latest values when
// it does not, so a view keeps moving either way. Subscribers get {type, ...} events.
import { currentToken, latest } from "./api.js";

const subscribers = new Set();
let socket = null;
let pollTimer = null;
let stateFn = () => {};
let stopped = true;

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
  try {
    await openSocket(selection);
  } catch {
    startPolling(selection);
  }
}

export function stop() {
  stopped = true;
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  stateFn(false);
}

async function openSocket(selection) {
  const token = await currentToken();
  const url = new URL("/api/v1/live", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token); // browsers cannot set headers on a WebSocket
  await new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let opened = false;
    ws.onopen = () => {
      // The selection: readings and alarm transitions of everything the caller may read,
      // or of one enterprise.
      ws.send(JSON.stringify({ alarms: true, ...(selection.enterprise_id ? { enterprise_id: selection.enterprise_id } : {}) }));
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
      if (!stopped) setTimeout(() => start(selection), 3000); // reconnect after a drop
    };
  });
}

function startPolling(selection) {
  let since = null;
  const tick = async () => {
    try {
      const rows = await latest(selection);
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
