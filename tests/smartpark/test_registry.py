import copy

import pytest

from smartpark.catalogue import DEVICE_KINDS
from smartpark.registry import ModelError, Snapshot, load_model, read_model
from tests.support.factories import small_model, unique_code

pytestmark = pytest.mark.integration

TABLES = ("parks", "enterprises", "gateways", "devices", "device_metrics")


def _counts(db):
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_loading_twice_changes_nothing(db, broker):
    model = small_model(unique_code())
    with db.transaction():
        first = load_model(db, model, broker=broker)
    before = _counts(db)
    with db.transaction():
        again = load_model(db, model, broker=broker)
    assert first == again
    assert (first.parks, first.enterprises, first.gateways, first.devices) == (1, 2, 2, 8)
    assert _counts(db) == before
    clients = set(broker.list_clients())
    assert {f"{model['parks'][0]['code']}.e1.gw1", f"{model['parks'][0]['code']}.e2.gw1"} <= clients


def test_snapshot_resolves_topic_codes(db, park):
    code = park["parks"][0]["code"]
    snap = Snapshot.fetch(db)
    dev = snap.device(code, "e1", "cems1")
    assert dev is not None and dev.kind == "stack_cems" and dev.attributes["o2_ref_pct"] == 9
    assert len(dev.metric_ids) == len(DEVICE_KINDS["stack_cems"])
    assert snap.device(code, "e2", "cems1") is None  # codes are per enterprise
    assert (code, "e1", "gw1") in snap.gateways


def test_editing_a_device_narrows_its_metrics(db, park):
    model = copy.deepcopy(park)
    gd = model["parks"][0]["enterprises"][0]["gateways"][0]["devices"][3]
    gd["metrics"] = ["safety.lel_pct"]
    with db.transaction():
        load_model(db, model)
    dev = Snapshot.fetch(db).device(model["parks"][0]["code"], "e1", "gd1")
    assert dev is not None and len(dev.metric_ids) == 1


def test_model_errors_say_where(tmp_path, db):
    bad = small_model(unique_code())
    bad["parks"][0]["enterprises"][1]["gateways"][0]["devices"][0]["kind"] = "toaster"
    with pytest.raises(ModelError, match=r"enterprises\[1\]\.gateways\[0\]\.devices\[0\].*'toaster'"), db.transaction():
        load_model(db, bad)
    f = tmp_path / "park.yaml"
    f.write_text("parks: [unclosed")
    with pytest.raises(ModelError, match="not valid YAML"):
        read_model(f)
