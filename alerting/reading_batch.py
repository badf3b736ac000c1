"""A batch of readings as the evaluator takes them: parallel numpy columns (entity index, metric
id, ts, value), and which of them repeat an (entity, metric, ts) already in the batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class Batch:
    entity: np.ndarray  # int32 entity index
    metric: np.ndarray  # int32 metric id (catalogue id or a pseudo id)
    ts_ms: np.ndarray  # int64
    value: np.ndarray  # float64

    @classmethod
    def of(cls, entity: Sequence[int], metric: Sequence[int], ts_ms: Sequence[int], value: Sequence[float]) -> Batch:
        return cls(
            np.asarray(entity, dtype=np.int32),
            np.asarray(metric, dtype=np.int32),
            np.asarray(ts_ms, dtype=np.int64),
            np.asarray(value, dtype=np.float64),
        )

    def __len__(self) -> int:
        return int(self.value.shape[0])


def first_of_each(batch: Batch) -> np.ndarray | None:
    """Which readings are the first of their (entity, metric, ts) in the batch; None: all are."""
    if len(batch) < 2:
        return None
    order = np.lexsort((batch.ts_ms, batch.metric, batch.entity))  # stable: arrival order kept
    e, m, t = batch.entity[order], batch.metric[order], batch.ts_ms[order]
    repeat = (e[1:] == e[:-1]) & (m[1:] == m[:-1]) & (t[1:] == t[:-1])
    if not repeat.any():
        return None
    keep = np.ones(len(batch), dtype=bool)
    keep[order[1:][repeat]] = False
    return keep
