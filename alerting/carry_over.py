"""Taking over from the evaluator a rebuilt one replaces: series states, last readings, the
windows of unchanged rules, O2 and AQI inputs, carried by rule id and entity key.

Vectorised, a few milliseconds at tens of thousands of series, so the evaluation thread can do
the swap between two batches; the mapping of entities is worked out beforehand, beside the
running evaluator (alerting.rebuild).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alerting.evaluate import OK, Evaluator


def carry_map(new: Evaluator, old: Evaluator) -> np.ndarray:
    """For each entity of ``new``, its index in ``old`` (-1: new). Worked out beside the running
    evaluator, whose entities never change, so that the swap itself is array copies only."""
    get = old.entity_index.get
    return np.fromiter((get(e.key, -1) for e in new.entities), dtype=np.int64, count=len(new.entities))


def carried_rules(new: Evaluator, old: Evaluator) -> set[int]:
    """Indexes of the rules of ``new`` that ``old`` runs unchanged: their windows are carried
    over, the others' are primed from storage."""
    carried = set()
    for r, rule in enumerate(new.rules):
        ro = old.rule_index.get(rule.id)
        if ro is not None and old.rules[ro] == rule:
            carried.add(r)
    return carried


def take_over(new: Evaluator, old: Evaluator, entity_map: np.ndarray | None = None) -> None:
    """Carry the live state of ``old`` over to ``new`` (``entity_map``: :func:`carry_map`'s,
    when it was worked out against this ``old``)."""
    emap = carry_map(new, old) if entity_map is None else entity_map
    new_e = np.flatnonzero(emap >= 0)
    old_e = emap[new_e]
    back = dict(zip(old_e.tolist(), new_e.tolist(), strict=True)) if old.windows or old.aqi_inputs else {}
    pairs = [(r, old.rule_index[rule.id]) for r, rule in enumerate(new.rules) if rule.id in old.rule_index]
    if pairs:
        rn, ro = (np.array(x, dtype=np.int64) for x in zip(*pairs, strict=True))
        into, out_of = _carry_index(rn, new_e, ro, old_e)
        for name in ("state", "since_ms", "last_value", "last_ts", "last_seen"):
            getattr(new, name)[into] = getattr(old, name)[out_of]
        new.state[~new.applies] = OK  # out of scope now: nothing to judge
    same = {old.rule_index[new.rules[r].id]: r for r in carried_rules(new, old)}
    for (wr, we), buf in old.windows.items():
        if wr in same and we in back:
            new.windows[(same[wr], back[we])] = buf
    new.o2[new_e], new.o2_ts[new_e] = old.o2[old_e], old.o2_ts[old_e]
    new.aqi_inputs = {back[e]: v for e, v in old.aqi_inputs.items() if e in back}


def _carry_index(rn: np.ndarray, new_e: np.ndarray, ro: np.ndarray, old_e: np.ndarray) -> tuple[Any, Any]:
    """Indexes that copy every carried rule's series at once; when the old entities sit in the
    same order in one run of the new ones (devices added at the end: the usual change), whole
    rows are copied, several times faster than element by element."""
    run = old_e.size > 0 and new_e[-1] - new_e[0] == new_e.size - 1
    if run and old_e[0] == 0 and old_e[-1] == old_e.size - 1 and bool((np.diff(old_e) == 1).all()):
        return (rn[:, None], slice(int(new_e[0]), int(new_e[-1]) + 1)), (ro[:, None], slice(0, old_e.size))
    return np.ix_(rn, new_e), np.ix_(ro, old_e)
