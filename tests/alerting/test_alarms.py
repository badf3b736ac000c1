"""The open alarms' pure parts: the labels an alarm carries, and the counts by state (no services;
recording and restoring are tested through the service in test_service)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from alerting.alarms import OpenAlarms, alert_labels
from alerting.directory import Directory
from alerting.evaluate import Evaluator, SeriesState
from alerting.metrics import AlertingMetrics
from alerting.rules import default_rules
from tests.alerting.test_directory import snapshot

LEL = next(r for r in default_rules() if r.id == "lel-level1")


def test_an_alarm_carries_its_rule_and_its_device() -> None:
    d = Directory.of(snapshot(), {"p1": 1})
    labels = alert_labels(LEL, d.entities[d.by_topic[("p1", "e1", "gd1")]])
    assert labels["alertname"] == "lel-level1" and labels["family"] == "lel" and labels["category"] == "safety"
    assert labels["device"] == "gd1" and labels["gateway"] == "gw1" and labels["condition"] == LEL.condition.type


def test_open_alarms_are_counted_by_the_state_the_evaluator_has() -> None:
    ev = Evaluator([LEL], Directory.of(snapshot(), {"p1": 1}).entities, now_ms=0)
    assert ev.import_state([SeriesState("lel-level1", "d:11", 2, 0, 30.0)]) == 1
    alarms = OpenAlarms(inhibit=(), metrics=AlertingMetrics.create(CollectorRegistry()))
    alarms.open = {("lel-level1", "d:11"): 1, ("lel-level1", "d:99"): 2}  # d:99 left the registry
    assert alarms.counts(ev) == {"pending": 0, "firing": 1}
    ev.reset("lel-level1", "d:11")
    assert alarms.counts(ev) == {"pending": 0, "firing": 0}


def test_a_storm_of_transitions_gives_signs_of_life_while_it_is_recorded() -> None:
    """A thousand transitions in one step are slow work, not a stuck loop: the supervisor must
    not kill the service for them (a restart would blind it for longer)."""
    from contextlib import nullcontext

    from alerting.alarms import PROGRESS_EVERY
    from alerting.evaluate import Transition

    class Conn:  # nothing to write: every transition closes an alarm that is not open
        def transaction(self) -> nullcontext[None]:
            return nullcontext()

    d = Directory.of(snapshot(), {"p1": 1})
    alarms = OpenAlarms(inhibit=(), metrics=AlertingMetrics.create(CollectorRegistry()))
    beats: list[int] = []
    storm = [Transition(LEL, 0, "resolved", i, 0.0) for i in range(1000)]
    alarms.record(Conn(), storm, d, 0, progress=lambda: beats.append(1))  # type: ignore[arg-type]
    assert len(beats) == len(storm) // PROGRESS_EVERY
