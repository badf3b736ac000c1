// One click from each view: the data behind it as an XLSX download (the reports view has every
// option). Ranges are the park's calendar: the last 30 days, or 7 days of hourly series.
import { download } from "./files.js";
import { offsetMs, parkDate } from "./format.js";

/** Local midnight of a park date (YYYY-MM-DD) as an ISO instant. */
export function parkInstant(day) {
  const [y, m, d] = day.split("-").map(Number);
  const guess = Date.UTC(y, m - 1, d);
  return new Date(guess - offsetMs(guess)).toISOString();
}

function span(ctx, days) {
  const first = parkDate(ctx.timezone, -days + 1), end = parkDate(ctx.timezone, 1);
  return { first, end, from: parkInstant(first), to: parkInstant(end) };
}

/** {path, query} of the export behind a view, or null where there is none. */
export function exportFor(view, ctx) {
  const me = ctx.me, park = ctx.park?.park_id, month = span(ctx, 30), week = span(ctx, 7);
  const stats = me.enterprise_id
    ? { enterprise_id: me.enterprise_id, period: "day", from: month.first, to: month.end }
    : { park_id: park, period: "day", from: month.first, to: month.end };
  const hourly = (query) => ({ path: "/exports/telemetry", query: { park_id: park, interval: "1h", from: week.from, to: week.to, ...query } });
  switch (view) {
    case "overview": case "energy": case "enterprise":
      return { path: "/exports/statistics", query: stats };
    case "environment": {
      const metric = ctx.metrics.filter((m) => ["emissions", "environment"].includes(m.category)).map((m) => m.code);
      return hourly({ metric });
    }
    case "safety": case "regulator":
      return { path: "/exports/alarms", query: { park_id: park, from: month.from, to: month.to } };
    case "device": {
      const id = new URLSearchParams(location.hash.split("?")[1] || "").get("id");
      return id ? hourly({ device_id: id }) : null;
    }
    case "plan":
      return { path: "/exports/completeness", query: { park_id: park, by: "device", period: "range", from: week.first, to: parkDate(ctx.timezone) } };
    default:
      return null;
  }
}

export function exportView(view, ctx) {
  const found = exportFor(view, ctx);
  return found ? download(found.path, { ...found.query, format: "xlsx" }, `${view}.xlsx`) : Promise.resolve();
}
