// The API client of the page: every route the views use is named here, in one place.
// Auth: the API key lives in sessionStorage (this tab only) and is exchanged for a short-lived
// token; requests send the token, and a new one is fetched when it is about to expire.

const BASE = "/api/v1";
const KEY = "smartpark.apiKey";
// The big screen's read-only display key: in localStorage, so a rebooted wall PC shows the park
// again without anyone signing in. Issue it as a read-only user of one park; revoke it with
// DELETE /api/v1/keys/{id} (admins).
const DISPLAY_KEY = "smartpark.displayKey";

export class ApiError extends Error {
  constructor(status, detail, path, errors = []) {
    super(`${status} ${path}: ${detail}`);
    this.status = status;
    this.detail = detail;
    this.path = path;
    this.errors = errors; // a validation 422's [{loc, msg, type}]: which field, and why
  }
}

let token = null;
let tokenExp = 0;

export function storedKey() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(DISPLAY_KEY);
}

export function forget() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(DISPLAY_KEY);
  token = null;
  tokenExp = 0;
}

async function raw(method, path, { body, credential, query } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
  }
  const headers = { Accept: "application/json" };
  if (credential) headers.Authorization = `Bearer ${credential}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    const detail = (data && (data.detail || data.title)) || res.statusText;
    const errors = Array.isArray(data?.errors) ? data.errors : [];
    throw new ApiError(res.status, typeof detail === "string" ? detail : JSON.stringify(detail), path, errors);
  }
  return data;
}

let exchanging = null; // one token exchange at a time, however many calls start together

async function credential() {
  const key = storedKey();
  if (!key) throw new ApiError(401, "not signed in", "");
  if (!token || Date.now() / 1000 > tokenExp - 60) {
    exchanging ||= raw("POST", "/auth/token", { credential: key })
      .then((out) => { token = out.access_token; tokenExp = out.expires_at; })
      .finally(() => { exchanging = null; });
    await exchanging;
  }
  return token;
}

export async function call(method, path, opts = {}) {
  try {
    return await raw(method, path, { ...opts, credential: await credential() });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && token) {
      token = null; // the token expired or was revoked: one retry with a fresh one
      return raw(method, path, { ...opts, credential: await credential() });
    }
    throw err;
  }
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body) => call("POST", path, { body });
export const put = (path, body) => call("PUT", path, { body });

/** Sign in: check the key by exchanging it, then keep it for this tab (or, a display key, for this browser). */
export async function login(key, { display = false } = {}) {
  const out = await raw("POST", "/auth/token", { credential: key.trim() });
  if (display) localStorage.setItem(DISPLAY_KEY, key.trim());
  else sessionStorage.setItem(KEY, key.trim());
  token = out.access_token;
  tokenExp = out.expires_at;
  return me();
}

export const me = () => get("/auth/me");

/**
 * The page's start in one answer (GET /page/context: who, the parks, the park's enterprises and
 * device index, catalogue, reference tables, services' health), asked with the stored key while
 * the same key is exchanged for the token the views use: sign-in is one round trip.
 */
export function context(park) {
  const key = storedKey();
  if (!key) return Promise.reject(new ApiError(401, "not signed in", ""));
  credential().catch(() => {}); // a refused key is reported by the context's own answer
  return raw("GET", "/page/context", { credential: key, query: { park } });
}
export const currentToken = () => credential();

/** All pages of a paged list route. */
export async function all(path, query = {}, pageSize = 1000) {
  const items = [];
  let offset = 0;
  for (;;) {
    const page = await get(path, { ...query, limit: pageSize, offset });
    items.push(...page.items);
    if (page.next_offset === null || page.next_offset === undefined) return items;
    offset = page.next_offset;
  }
}

// --- routes used by the views -------------------------------------------------------------

export const parks = () => all("/parks");
export const enterprises = (parkId) => all("/enterprises", { park_id: parkId });
export const devices = (query) => all("/devices", query);
export const metrics = () => get("/metrics");

/** Latest value of every (device, metric) in scope: [{device_id, device, metric, unit, ts, value, ...}]. */
export const latest = (query) => all("/telemetry/latest", query);

const MAX_SERIES = 50; // the API's cap of (device, metric) pairs per request

/**
 * Time series of [device_id, metric] pairs, split into requests of at most MAX_SERIES pairs:
 * [{device_id, metric, unit, aggregate, ts: [...], values: [...]}].
 */
export async function series(pairs, { from, to, interval = "1h", aggregate } = {}) {
  const chunks = [];
  for (let i = 0; i < pairs.length; i += MAX_SERIES) chunks.push(pairs.slice(i, i + MAX_SERIES));
  const answers = await Promise.all(chunks.map((chunk) => get("/telemetry/series", {
    series: chunk.map(([d, m]) => `${d}:${m}`), from, to, interval, aggregate,
  })));
  return answers.flatMap((a) => a.series);
}

export const alarms = (query) => get("/alarms", query);
export const acknowledge = (alarmId, comment) => post(`/alarms/${alarmId}/acknowledge`, { comment });
