"""`smartpark bench energy-alarms`: the energy alarms' figures of a large park, and what they cost
the alarm loop.

In a throw-away database, ``--enterprises`` enterprises (default 2 000) each with a contracted
main electricity meter and ``--subs`` sub-meters (default 3), and a month of the main meters'
15-minute rollups (:mod:`benchmarks.metered_park`). With the shipped energy rules over that park:

- the figures as a pass computes them: the month's demand of every contracted meter and the
  settled hour's balance of every main meter, read and computed, then judged by the evaluator
  (the first pass, and the best of ``--repeat``); before ``alerting.periodic_figures`` this ran
  on the alarm loop every five minutes;
- the alarm loop's longest step while a running alerting service (its clock at the same hour,
  the month's end) computes those figures again and again (every 0.5 s) and a gas detector of
  the park leaks and recovers every second: the figures are computed on their own
  thread (``alerting.periodic_figures``), so the loop only judges them.

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

TZ = "Asia/Shanghai"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--subs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="best of N passes of the figures")
    parser.add_argument("--loop-s", type=float, default=30.0, help="how long the service runs for the loop figure")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import psycopg

    from benchmarks import metered_park
    from benchmarks.harness import scratch_db
    from smartpark.settings import get_settings

    settings = get_settings()
    # the last hour of a 31-day month: the demand reads the whole month
    month_end = int(datetime(2026, 10, 31, 23, 0, tzinfo=ZoneInfo(TZ)).timestamp() * 1000)
    with scratch_db("benchenergyalarms", settings) as scratch, psycopg.connect(scratch.url, autocommit=True) as conn:
        started = time.perf_counter()
        park = metered_park.build(
            conn, code="big", enterprises=args.enterprises, subs=args.subs, now_ms=month_end, timezone=TZ
        )
        build_s = time.perf_counter() - started
        figures = _figures(conn, month_end, args.repeat)
        service_settings = settings.model_copy(
            update={"database_url": scratch.url, "alerting_share_group": f"bench-{scratch.name}"}
        )
        loop = _loop(service_settings, conn, park.code, month_end, args.loop_s)
    out = {
        "enterprises": park.enterprises,
        "meters": park.meters,
        "rollup_rows": park.rollup_rows,
        "build_s": round(build_s, 1),
        **figures,
        **loop,
    }
    print(f"{'park':44} {park.enterprises} enterprises, {park.meters} meters, {park.rollup_rows} 15-min rows")
    for key, what in (
        ("demand_s", "demand of the month (read + compute)"),
        ("balance_s", "balance of the settled hour (read + compute)"),
        ("judge_s", "judging both (evaluator)"),
    ):
        print(f"{what:44} {figures[key] * 1000:>10.1f} ms best, {figures['first_' + key] * 1000:.1f} ms first")
    print(f"{'figures passes while the service ran':44} {loop['passes']:>10d}")
    print(f"{'longest figures pass (its own thread)':44} {loop['longest_figures_s'] * 1000:>10.1f} ms")
    print(f"{'longest loop step meanwhile':44} {loop['longest_step_s'] * 1000:>10.1f} ms")
    print(f"{'longest of each kind of step':44} {loop['longest_by_step_s']}")
    print(f"{'energy alarms raised (a slice a step)':44} {loop['energy_alarms']:>10d}")
    print(f"{'gas alarms raised meanwhile / leaks':44} {loop['gas_alarms']:>6d} / {loop['leaks_published']}")
    print(
        f"{'readings judged within 250 ms / batches':44} {loop['batches_within_250ms']:>6d} / {loop['batches_judged']}"
    )
    print(json.dumps(out))
    return 0


def _figures(conn: Any, now_ms: int, repeat: int) -> dict[str, Any]:
    from alerting.directory import Directory
    from alerting.energy_levels import balance_losses, demand_ratios
    from alerting.evaluate import Evaluator
    from alerting.rules import BALANCE_LOSS_HOUR, DEMAND_RATIO_MONTH, default_rules
    from alerting.transmission import watched

    directory = Directory.fetch(conn, ["big"])
    rules = [r for r in default_rules() if r.metric.startswith("energy.")]
    best: dict[str, float] = {}
    first: dict[str, float] = {}
    counts: dict[str, int] = {}
    for _ in range(repeat):
        ev = Evaluator(rules, directory.entities, now_ms=now_ms)
        took: dict[str, float] = {"judge_s": 0.0}
        for key, metric, figures in (
            ("demand", DEMAND_RATIO_MONTH, demand_ratios),
            ("balance", BALANCE_LOSS_HOUR, balance_losses),
        ):
            started = time.perf_counter()
            batch = figures(conn, devices=watched(ev, metric), now_ms=now_ms)
            took[f"{key}_s"] = time.perf_counter() - started
            counts[f"{key}_readings"] = len(batch)
            started = time.perf_counter()
            ev.evaluate(batch, now_ms=now_ms)
            took["judge_s"] += time.perf_counter() - started
        first = first or dict(took)
        for k, v in took.items():
            best[k] = min(best.get(k, v), v)
    return {
        **{k: round(v, 4) for k, v in best.items()},
        **{f"first_{k}": round(v, 4) for k, v in first.items()},
        **counts,
    }


def _loop(settings: Any, conn: Any, code: str, at_ms: int, seconds: float) -> dict[str, Any]:
    """A running service on the park, its figures every 0.5 s, a gas leak and its end every second
    on a detector of the park (put in the loop's inbox as the MQTT thread puts them)."""
    import secrets

    from prometheus_client import CollectorRegistry

    from alerting.intake import Message
    from alerting.metrics import AlertingMetrics
    from alerting.rules import default_rules, rule_from_dict
    from alerting.service import AlertingService
    from smartpark.catalogue import metric
    from smartpark.contract import gateway_topic

    conn.execute(
        "INSERT INTO devices (enterprise_id, gateway_id, code, kind, zone) SELECT e.enterprise_id, g.gateway_id,"
        " 'gas', 'gas_detector', 'G' FROM enterprises e JOIN parks p USING (park_id) JOIN gateways g"
        " USING (enterprise_id) WHERE p.code = %s AND e.code = 'p00000'",
        (code,),
    )
    lel = metric("safety.lel_pct").id
    conn.execute("INSERT INTO device_metrics SELECT device_id, %s FROM devices WHERE code = 'gas'", (lel,))
    gas = rule_from_dict({"id": "lel", "metric": "safety.lel_pct", "severity": "critical", "category": "safety",
                          "condition": {"op": ">=", "threshold": 50}})  # fmt: skip
    offset_s = at_ms / 1000 - time.time()
    registry = CollectorRegistry()
    svc = AlertingService(
        settings=settings,
        clock=lambda: time.time() + offset_s,
        rules=[r for r in default_rules() if r.metric.startswith("energy.")] + [gas],
        metrics=AlertingMetrics.create(registry),
        client_id=f"bench-energy-{secrets.token_hex(4)}",
        tick_s=0.1,
        parks=[code],
        session_expiry_s=5,
        transmission_every_s=0.5,
    )
    svc.start()
    thread = threading.Thread(target=svc.run, daemon=True)
    thread.start()
    topic = gateway_topic(code, "p00000", "gw")
    sent = 0
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ts = int((time.time() + offset_s) * 1000)
            body = {"gas": [{"ts": ts, "values": {"safety.lel_pct": 60.0 if sent % 2 == 0 else 0.0}}]}
            svc.inbox.put(Message(topic, json.dumps(body).encode(), ts))
            sent += 1
            time.sleep(1.0)
        time.sleep(1.0)
    finally:
        svc.stop_event.set()
        thread.join(timeout=10)
        figures = svc.figures
        svc.stop()
    row = conn.execute("SELECT count(*) FROM alerts WHERE rule_id = 'lel'").fetchone()
    energy = conn.execute("SELECT count(*) FROM alerts WHERE rule_id <> 'lel'").fetchone()
    judged = registry.get_sample_value("smartpark_alerting_evaluation_seconds_count") or 0.0
    prompt = registry.get_sample_value("smartpark_alerting_evaluation_seconds_bucket", {"le": "0.25"}) or 0.0
    steps = {k: v for k, v in svc.heartbeat.detail.items() if k.startswith("longest_") and k != "longest_pause_s"}
    return {
        "energy_alarms": int(energy[0]) if energy else 0,
        "batches_judged": int(judged),
        "batches_within_250ms": int(prompt),
        "longest_by_step_s": steps,
        "loop_s": seconds,
        "passes": figures.passes if figures is not None else 0,
        "longest_figures_s": round(figures.longest_s if figures is not None else 0.0, 4),
        "longest_step_s": round(svc.longest_pause_s, 4),
        "gas_alarms": int(row[0]) if row else 0,
        "leaks_published": (sent + 1) // 2,
    }
