"""The cold tier's files (pure, no I/O): their schema, their names, how readings are grouped
into them and the checksum that proves a file holds what the chunk held.

One file per (chunk, UTC day, park, metric category), under ``telemetry/day=…/park=…/``: a
category's files can be deleted when its retention ends without rewriting the others', and a
read of one device opens only its park's files of the days asked. Inside a file the readings are
sorted by (device, metric, time), so row-group statistics prune a read of one series and the
columns compress well: delta-encoded times, dictionary ids and flags.

Values are what instruments display, decimals of a few digits, whose float64 mantissas look random
to a compressor. A file stores each series' values as integers at the series' decimal scale
(``value_e / 10**scale``), delta-encoded, wherever that gives back the very same float64; any
other value is kept as it is (``value_raw``). Both readers and the checksum see float64 values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from smartpark.db.binary_copy import PG_EPOCH_US, TELEMETRY_COLUMNS

TELEMETRY = "telemetry"
# (column, PostgreSQL binary type): the times cross as PostgreSQL's µs, exact to the microsecond.
COPY_COLUMNS = TELEMETRY_COLUMNS
# The readings as the tier's code sees them (checksum, reads) ...
SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("us", tz="UTC")),
        ("device_id", pa.int32()),
        ("metric_id", pa.int16()),
        ("value", pa.float64()),
        ("flag", pa.int16()),
    ]
)
# ... and as a file stores them.
FILE_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("us", tz="UTC")),
        ("device_id", pa.int32()),
        ("metric_id", pa.int16()),
        ("flag", pa.int16()),
        ("scale", pa.int8()),
        ("value_e", pa.int64()),  # null where value_raw holds the value
        ("value_raw", pa.float64()),
    ]
)
MAX_SCALE = 9
EXACT_INT = 2**53  # integers beyond this are not all exact in float64
US_PER_DAY = 86_400_000_000
ROW_GROUP_ROWS = 128 * 1024  # small enough that one series' read skips most of a big file


def writer_options(zstd_level: int) -> dict[str, object]:
    """pyarrow.parquet.write_table keywords of every cold file."""
    return {
        "compression": "zstd",
        "compression_level": zstd_level,
        "use_dictionary": ["device_id", "metric_id", "flag", "scale"],
        "column_encoding": {
            "ts": "DELTA_BINARY_PACKED",
            "value_e": "DELTA_BINARY_PACKED",
            "value_raw": "BYTE_STREAM_SPLIT",
        },
        "row_group_size": ROW_GROUP_ROWS,
        "write_statistics": True,
    }


@dataclass(frozen=True, slots=True)
class Part:
    """The readings of one file: rows [start, stop) of the chunk's sorted arrays."""

    day: date
    park_id: int
    category: str
    start: int
    stop: int

    def path(self, root: str, chunk: str) -> str:
        folder = f"{root.rstrip('/')}/{TELEMETRY}/day={self.day.isoformat()}/park={self.park_id}"
        return f"{folder}/{self.category}-{chunk}.parquet"


def unix_us(pg_us: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return pg_us.astype(np.int64) + PG_EPOCH_US


def split(
    arrays: dict[str, npt.NDArray[np.generic]],
    *,
    park_of_device: dict[int, int],
    category_of_metric: dict[int, str],
) -> tuple[dict[str, npt.NDArray[np.generic]], list[Part]]:
    """The chunk's readings sorted by (day, park, category, device, metric, time), and the parts.

    A device or metric missing from the maps is an error naming it: its readings would belong to
    no file, and the chunk must not be dropped then.
    """
    ts = unix_us(np.asarray(arrays["ts"]))
    device = np.asarray(arrays["device_id"], dtype=np.int32)
    metric = np.asarray(arrays["metric_id"], dtype=np.int16)
    devices = np.unique(device)
    unknown = [int(d) for d in devices if int(d) not in park_of_device]
    if unknown:
        raise ValueError(f"devices {unknown[:10]} of the chunk have no park in the registry")
    metrics = np.unique(metric)
    unknown = [int(m) for m in metrics if int(m) not in category_of_metric]
    if unknown:
        raise ValueError(f"metrics {unknown[:10]} of the chunk are not in the catalogue")
    park = np.zeros(int(devices.max()) + 1 if len(devices) else 1, dtype=np.int32)
    park[devices] = [park_of_device[int(d)] for d in devices]
    categories = sorted(set(category_of_metric.values()))
    cat_index = np.zeros(int(metrics.max()) + 1 if len(metrics) else 1, dtype=np.int8)
    cat_index[metrics] = [categories.index(category_of_metric[int(m)]) for m in metrics]
    day = ts // US_PER_DAY
    row_park = park[device]
    row_cat = cat_index[metric]
    order = np.lexsort((ts, metric, device, row_cat, row_park, day))
    out = {name: np.asarray(arrays[name])[order] for name, _ in COPY_COLUMNS}
    out["ts"] = ts[order]
    keys = np.stack([day[order], row_park[order], row_cat[order]])
    if len(order) == 0:
        return out, []
    edges = np.flatnonzero(np.any(keys[:, 1:] != keys[:, :-1], axis=0)) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(order)]])
    parts = [
        Part(
            datetime.fromtimestamp(int(keys[0, a]) * 86_400, UTC).date(),
            int(keys[1, a]),
            categories[int(keys[2, a])],
            int(a),
            int(b),
        )
        for a, b in zip(starts, stops, strict=True)
    ]
    return out, parts


def table(arrays: dict[str, npt.NDArray[np.generic]], start: int = 0, stop: int | None = None) -> pa.Table:
    """The Arrow table of rows [start, stop) of sorted arrays (``ts`` in Unix µs)."""
    cols = [pa.array(np.asarray(arrays[name])[start:stop].astype(dtype, copy=False)) for name, dtype in Digest.DTYPES]
    cols[0] = cols[0].cast(SCHEMA.field("ts").type)
    return pa.Table.from_arrays(cols, schema=SCHEMA)


def _scaled(
    v: npt.NDArray[np.float64], k: float | npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """``v`` as integers at decimal scale ``k``, and where that gives ``v`` back exactly (NaN,
    infinities, -0.0 and integers beyond 2**53 never do)."""
    with np.errstate(invalid="ignore", over="ignore"):
        power = np.power(10.0, k)
        e = np.round(v * power)
        ok = (np.abs(e) < EXACT_INT) & (e / power == v) & ~((v == 0) & np.signbit(v))
    return e, ok


def _row_scales(v: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    """Per value the smallest decimal scale that gives it back exactly (-1: none does)."""
    out = np.full(len(v), -1, dtype=np.int8)
    left = np.arange(len(v))
    for k in range(MAX_SCALE + 1):  # most values are done within three decimals: few rows go on
        ok = _scaled(v[left], float(k))[1]
        out[left[ok]] = k
        left = left[~ok]
        if not len(left):
            break
    return out


def encode(t: pa.Table) -> pa.Table:
    """The file's table of readings sorted by series: each series at its own decimal scale."""
    v = t.column("value").to_numpy()
    series = t.column("device_id").to_numpy().astype(np.int64) << 16 | t.column("metric_id").to_numpy().astype(np.int64)
    n = len(v)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(series)) + 1]) if n else np.zeros(0, np.int64)
    rows = _row_scales(v)
    # a series' scale: the largest its values need (a value needing none stays raw)
    per_series = np.maximum.reduceat(rows, starts) if n else rows
    scale = np.repeat(per_series, np.diff(np.concatenate([starts, [n]]))).astype(np.int8)
    e, exact = _scaled(v, scale.clip(0).astype(np.float64))
    exact &= scale >= 0
    cols = {
        "ts": t.column("ts"),
        "device_id": t.column("device_id"),
        "metric_id": t.column("metric_id"),
        "flag": t.column("flag"),
        "scale": pa.array(scale.clip(0)),
        "value_e": pa.array(np.where(exact, e, 0).astype(np.int64), mask=~exact),
        "value_raw": pa.array(v, mask=exact),
    }
    return pa.Table.from_pydict(cols, schema=FILE_SCHEMA)


def decode(f: pa.Table) -> pa.Table:
    """The readings of a file's table (any subset of rows, all its columns)."""
    e = f.column("value_e")
    scaled = e.fill_null(0).to_numpy() / np.power(10.0, f.column("scale").to_numpy().astype(np.float64))
    raw = f.column("value_raw").fill_null(0).to_numpy()
    value = np.where(e.is_valid().to_numpy(zero_copy_only=False), scaled, raw)
    return pa.Table.from_arrays(
        [f.column("ts"), f.column("device_id"), f.column("metric_id"), pa.array(value), f.column("flag")],
        schema=SCHEMA,
    )


def read(path: str, filesystem: object) -> pa.Table:
    """A whole cold file's readings."""
    import pyarrow.parquet as pq

    return decode(pq.read_table(path, filesystem=filesystem, schema=FILE_SCHEMA))


class Digest:
    """BLAKE2b of one file's readings, a hasher per column: the same whether the rows arrive in
    one piece or many (the export appends batch by batch, the verify reads the file whole)."""

    DTYPES = (("ts", np.int64), ("device_id", np.int32), ("metric_id", np.int16), ("value", np.float64),
              ("flag", np.int16))  # fmt: skip

    def __init__(self) -> None:
        self.columns = {name: hashlib.blake2b(name.encode(), digest_size=16) for name, _ in self.DTYPES}
        self.rows = 0

    def arrays(self, arrays: dict[str, npt.NDArray[np.generic]], start: int = 0, stop: int | None = None) -> None:
        """Rows [start, stop) of sorted arrays (``ts`` in Unix µs), as :func:`table` takes them."""
        for name, dtype in self.DTYPES:
            self.columns[name].update(np.ascontiguousarray(np.asarray(arrays[name])[start:stop], dtype=dtype).data)
        self.rows += len(np.asarray(arrays["ts"])[start:stop])

    def table(self, t: pa.Table) -> None:
        """The readings of a table in :data:`SCHEMA`."""
        cols = {name: t.column(name).combine_chunks() for name in SCHEMA.names}
        cols["ts"] = cols["ts"].cast(pa.int64())
        self.arrays({k: v.to_numpy(zero_copy_only=False) for k, v in cols.items()})

    def digest(self) -> bytes:
        return b"".join(self.columns[name].digest() for name, _ in self.DTYPES)


def combine(digests: dict[str, bytes]) -> str:
    """The chunk's checksum: its files' digests in the order of their paths (sorted here, never
    by a database collation)."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(digests):
        h.update(digests[path])
    return h.hexdigest()


def checksum(tables: list[pa.Table]) -> str:
    """The checksum of tables as files in this order: the source's arrays and the files read
    back give the same digest exactly when they hold the same rows."""
    digests = {}
    for i, t in enumerate(tables):
        d = Digest()
        d.table(t)
        digests[f"{i:09d}"] = d.digest()
    return combine(digests)
