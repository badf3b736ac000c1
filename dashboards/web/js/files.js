// Files to and from the API: downloads (exports, report packs, templates) fetched with the
// session's token and saved under the name the API gives, and an XLSX uploaded as the body.
import { ApiError, currentToken } from "./api.js";

const BASE = "/api/v1";

function filenameOf(res, fallback) {
  const header = res.headers.get("content-disposition") || "";
  const m = header.match(/filename\*=UTF-8''([^;]+)/);
  return m ? decodeURIComponent(m[1]) : fallback;
}

async function problem(res, path) {
  let detail = res.statusText;
  let errors = null;
  try {
    const body = await res.json();
    detail = body.detail || detail;
    errors = body.errors || null;
  } catch { /* not JSON */ }
  const err = new ApiError(res.status, detail, path);
  err.errors = errors;
  return err;
}

/** Fetch path?query and save it (the browser's download). */
export async function download(path, query = {}, fallback = "download") {
  const url = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
  }
  const res = await fetch(url, { headers: { Authorization: `Bearer ${await currentToken()}` } });
  if (!res.ok) throw await problem(res, path);
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filenameOf(res, fallback);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** POST a file as the request body; the JSON answer, or an ApiError with the API's `errors`. */
export async function upload(path, file, type) {
  const res = await fetch(BASE + path, {
    method: "POST",
    headers: { Authorization: `Bearer ${await currentToken()}`, "Content-Type": type, Accept: "application/json" },
    body: file,
  });
  if (!res.ok) throw await problem(res, path);
  return res.json();
}
