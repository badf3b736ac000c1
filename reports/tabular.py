"""Streamed tables: CSV as encoded chunks, XLSX written row by row in constant memory.

CSV is UTF-8 with a byte-order mark (Excel then reads the Chinese headers right). A query's rows
come from PostgreSQL's ``COPY … TO STDOUT (FORMAT csv)``: the server formats them and the
chunks pass through, gathered to ~64 KiB, so the memory held is one chunk whatever the export's
length. XLSX cannot be sent before it is complete (it is a zip with its directory at the end):
xlsxwriter's ``constant_memory`` mode writes each row to a temporary file, and the finished file
is then sent in chunks; a sheet holds at most 1 048 576 rows, so longer exports continue on the
next sheet under the same header.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import xlsxwriter

from reports.model import Cell, Column
from reports.render_xlsx import number_format

CHUNK_BYTES = 64 * 1024
BOM = "\ufeff".encode()
SHEET_ROWS = 1_048_576  # Excel's rows per sheet, header included
MAX_XLSX_ROWS = 5_000_000  # beyond this an XLSX is no longer a spreadsheet anyone opens: use CSV
FETCH_ROWS = 5_000  # rows per round trip of a server-side cursor
EXPORT_STATEMENT_TIMEOUT_MS = 30 * 60 * 1000  # a year of a large park streams for minutes


def header_line(columns: Sequence[Column]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([c.header for c in columns])
    return BOM + buf.getvalue().encode()


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """CSV of Python rows (already in memory or from a cursor): the header, then ~64 KiB chunks."""
    yield header_line(columns)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")  # as COPY ends its lines
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
        if buf.tell() >= CHUNK_BYTES:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode()


def _csv_cell(v: Any) -> Any:
    if isinstance(v, float):
        return pg_float(v)
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    return "" if v is None else v


def pg_float(v: float) -> str:
    """A float as PostgreSQL's COPY writes a float8 (shortest digits that read back exactly;
    positional from 1e-4 up to 1e15, else an exponent), so a file is the same whether its rows
    came from the server or from Python."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "-0" if str(v).startswith("-") else "0"
    d = Decimal(repr(v)).normalize()
    if -4 <= d.adjusted() < 15:
        return format(d, "f")
    return format(v, f".{len(d.as_tuple().digits) - 1}e")


def copy_chunks(conn: psycopg.Connection[Any], columns: Sequence[Column], sql: str, params: Any) -> Iterator[bytes]:
    """CSV of a query through COPY: the header, then the server's CSV gathered into ~64 KiB chunks.

    ``sql`` must yield its columns in ``columns``' order, times as local timestamps. The
    caller has checked the scope; this runs in its own transaction with a longer timeout.
    """
    yield header_line(columns)
    with conn.transaction():
        conn.execute(f"SET LOCAL statement_timeout = {EXPORT_STATEMENT_TIMEOUT_MS}")
        with conn.cursor().copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            buf = bytearray()  # one row per message from the server: gathered, one copy each
            for data in copy:
                buf += data
                if len(buf) >= CHUNK_BYTES:
                    yield bytes(buf)
                    buf.clear()
            if buf:
                yield bytes(buf)


def cursor_rows(conn: psycopg.Connection[Any], sql: str, params: Any) -> Iterator[tuple[Any, ...]]:
    """Rows of a query from a server-side cursor, FETCH_ROWS per round trip (memory flat)."""
    with conn.transaction():
        conn.execute(f"SET LOCAL statement_timeout = {EXPORT_STATEMENT_TIMEOUT_MS}")
        with conn.cursor(name="export", row_factory=psycopg.rows.tuple_row) as cur:
            cur.itersize = FETCH_ROWS
            cur.execute(sql, params)
            yield from cur


def xlsx_file(columns: Sequence[Column], rows: Iterable[Sequence[Cell | datetime | date]], *, sheet: str) -> Any:
    """A temporary file holding the XLSX of ``rows`` (rewound; the caller closes it)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    numbers = [book.add_format({"num_format": number_format(c)}) for c in columns]
    ws, r, n_sheet, total = None, SHEET_ROWS, 0, 0
    for row in rows:
        if r >= SHEET_ROWS:
            n_sheet += 1
            ws = book.add_worksheet(sheet if n_sheet == 1 else f"{sheet} ({n_sheet})")
            for c, column in enumerate(columns):
                ws.write_string(0, c, column.header, head)
                ws.set_column(c, c, 14 if column.numeric else 18)
            r = 1
        if total >= MAX_XLSX_ROWS:
            assert ws is not None
            ws.write_string(r, 0, f"已截断：XLSX 最多 {MAX_XLSX_ROWS} 行，完整数据请导出 CSV")
            break
        assert ws is not None
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, datetime):
                ws.write_datetime(r, c, v.replace(tzinfo=None), when)
            elif isinstance(v, date):
                ws.write_datetime(r, c, datetime(v.year, v.month, v.day), day)
            elif isinstance(v, int | float) and not isinstance(v, bool) and columns[c].numeric:
                ws.write_number(r, c, v, numbers[c])
            else:
                ws.write_string(r, c, str(v))
        r += 1
        total += 1
    if ws is None:  # no row: the header alone
        ws = book.add_worksheet(sheet)
        for c, column in enumerate(columns):
            ws.write_string(0, c, column.header, head)
    book.close()
    out.seek(0)
    return out


def file_chunks(f: Any) -> Iterator[bytes]:
    """A file's bytes in chunks, closing it at the end (or when the client goes away)."""
    try:
        while chunk := f.read(CHUNK_BYTES):
            yield chunk
    finally:
        f.close()
