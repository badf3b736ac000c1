"""Enterprise partitions and the subscriptions each ingester mode asks for (pure)."""

from __future__ import annotations

import pytest

from ingest.partition import Partition, enterprise_filters
from ingest.worker import WorkerConfig

PAIRS = [(p, f"e{i}") for p in ("p1", "p2") for i in range(50)]


def test_every_enterprise_has_exactly_one_owner() -> None:
    for count in (1, 2, 3, 7):
        owners = [[i for i in range(count) if Partition(i, count).owns(*pair)] for pair in PAIRS]
        assert all(len(o) == 1 for o in owners)
        if count <= 3:  # 100 enterprises: every partition gets some
            assert {o[0] for o in owners} == set(range(count))


def test_split_is_sorted_and_complete() -> None:
    mine, others = Partition(1, 3).split(reversed(PAIRS + PAIRS[:5]))
    assert mine == sorted(mine) and others == sorted(others)
    assert sorted(mine + others) == sorted(PAIRS)


def test_owner_is_stable_across_processes() -> None:
    # crc32 of "p1/e0" is 2049255045 (odd), not Python's per-process salted hash().
    assert Partition(1, 2).owns("p1", "e0")
    assert not Partition(0, 2).owns("p1", "e0")


@pytest.mark.parametrize(
    ("spec", "expected"), [("0/2", Partition(0, 2)), (" 3/4 ", Partition(3, 4)), ("0/1", Partition(0, 1))]
)
def test_parse(spec: str, expected: Partition) -> None:
    assert Partition.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("2/2", "index must be in 0..1"),
        ("1", "expected I/N"),
        ("-1/2", "expected I/N"),
        ("0/0", "index must be in 0..-1"),
    ],
)
def test_parse_refuses(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Partition.parse(spec)


def test_partitioned_ingester_subscribes_to_its_enterprises_only() -> None:
    config = WorkerConfig(client_id="c", partition=Partition(1, 2))
    mine, _ = config.partition.split(PAIRS) if config.partition else ([], [])
    assert config.subscriptions(PAIRS) == enterprise_filters("smartpark/v1", mine)
    assert "smartpark/v1/p1/e0/+/telemetry" in config.subscriptions(PAIRS)
    assert "smartpark/v1/p1/e0/gateway/+/telemetry" in config.subscriptions(PAIRS)


def test_park_filter_limits_the_partition() -> None:
    config = WorkerConfig(client_id="c", park="p2", partition=Partition(0, 1))
    assert len(config.subscriptions(PAIRS)) == 100
    assert all(f.startswith("smartpark/v1/p2/") for f in config.subscriptions(PAIRS))


def test_stale_subscriptions_cover_the_other_modes() -> None:
    shared = WorkerConfig(client_id="c")
    part = WorkerConfig(client_id="c", partition=Partition(1, 2))
    # A session that ran shared and now runs partitioned drops the shared filters and the
    # enterprises of other partitions; the reverse drops every per-enterprise filter.
    stale = set(part.stale_subscriptions(PAIRS))
    assert set(shared.subscriptions()) <= stale
    assert not stale & set(part.subscriptions(PAIRS))
    assert len(stale) + len(part.subscriptions(PAIRS)) == 4 + 2 * len(PAIRS)
    stale_shared = set(shared.stale_subscriptions(PAIRS))
    assert set(part.subscriptions(PAIRS)) <= stale_shared
    assert not stale_shared & set(shared.subscriptions())


def test_exclusive_and_partition_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="no partition"):
        WorkerConfig(client_id="c", exclusive=True, partition=Partition(0, 2))
