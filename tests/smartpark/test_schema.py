import pytest

from smartpark.catalogue import METRICS
from smartpark.db.migrate import available, migrate

pytestmark = pytest.mark.integration


def test_second_migrate_is_a_noop(db):
    assert migrate(db) == []
    applied = [r[0] for r in db.execute("SELECT name FROM schema_migrations ORDER BY version")]
    assert applied == [m.name for m in available()]


def test_catalogue_is_in_the_metrics_table(db):
    rows = dict(db.execute("SELECT code, metric_id FROM metrics").fetchall())
    assert rows == {m.code: m.id for m in METRICS}


def test_telemetry_is_a_hypertable_keyed_for_idempotence(db):
    row = db.execute(
        "SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'telemetry'"
    ).fetchone()
    assert row == (1,)
    key = db.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'telemetry'::regclass AND contype = 'p'"
    ).fetchone()
    assert key == ("PRIMARY KEY (device_id, metric_id, ts)",)
