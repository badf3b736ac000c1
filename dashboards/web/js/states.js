// The latest readings of a few metrics of every device of the park, in one answer whatever the
// number of devices (GET /parks/{id}/device-states?metric=…, columns aligned with the devices),
// as the rows the views read: [{device_id, enterprise_id, metric, value, ts}].
import * as api from "./api.js";

export const MAX_METRICS = 8; // the API's bound (api/routes/plan.py)

/** Rows of the answer's value columns, the devices without a reading left out. */
export function latestRows(answer) {
  const d = answer.devices;
  const rows = [];
  for (const [metric, values] of Object.entries(answer.values || {})) {
    const times = answer.value_ts[metric];
    for (let i = 0; i < values.length; i++) {
      if (values[i] == null) continue;
      rows.push({ device_id: d.device_id[i], enterprise_id: d.enterprise_id[i], metric, value: values[i], ts: times[i] });
    }
  }
  return rows;
}

/** Latest readings of `metrics` in the park (of one enterprise with `enterpriseId`). */
export async function parkLatest(ctx, metrics, { enterpriseId = null } = {}) {
  if (metrics.length > MAX_METRICS) throw new Error(`at most ${MAX_METRICS} metrics in one answer`);
  const answer = await api.get(`/parks/${ctx.park.park_id}/device-states`, { metric: metrics });
  const rows = latestRows(answer);
  return enterpriseId ? rows.filter((r) => r.enterprise_id === enterpriseId) : rows;
}
