"""`smartpark energy load` and `smartpark energy tariffs`, as an operator runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from energy import meters as em
from tests.energy.conftest import TREE, park_id_of

pytestmark = pytest.mark.integration


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartpark.cli", "energy", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_load_a_tree_from_a_file_and_refuse_a_bad_one(
    db: psycopg.Connection[Any], tree_park: dict[str, Any], tmp_path: Path
) -> None:
    code = tree_park["parks"][0]["code"]
    good = tmp_path / "tree.yaml"
    good.write_text(yaml.safe_dump({"meters": TREE}, allow_unicode=True))
    done = _run("load", code, str(good))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 meter(s)" in done.stdout
    assert len(em.fetch_tree(db, park_id=park_id_of(db, tree_park)).meters) == 6
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump([{**TREE[1], "parent": "NOPE"}]))
    done = _run("load", code, str(bad))
    assert done.returncode == 2 and "meters[0] ('E1').parent: no meter 'NOPE'" in done.stdout
    assert len(em.fetch_tree(db, park_id=park_id_of(db, tree_park)).meters) == 6  # unchanged


def test_tariffs_name_their_documents() -> None:
    done = _run("tariffs")
    assert done.returncode == 0 and "1630号" in done.stdout and "1631号" in done.stdout and "verify" in done.stdout
