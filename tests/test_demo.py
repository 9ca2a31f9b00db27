"""`eventyard demo --exit`: the chapter's whole story runs from start to end on a fresh folder."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import eventyard
from eventyard.demo import run_demo

pytestmark = pytest.mark.slow


def test_the_demo_tells_the_whole_story_and_leaves_a_consistent_shop(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    result = subprocess.run(
        [sys.executable, "-m", "eventyard", "demo", "--exit", "--dir", str(folder)],
        capture_output=True,
        text=True,
        timeout=240,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = " ".join(result.stdout.split())  # rich wraps long lines
    for told in (
        "API http://127.0.0.1:",
        "50 orders flow through",
        "runs out of paper",
        "OutOfPaper: the label printer is out of paper",
        "UnknownSku: order ord_",
        "unknown sku GHOST-404",
        "redrive of ShippingDLQ: ",
        "stock unchanged, label printed once",
        "is in the review lane",
        "summary",
    ):
        assert told in text, f"{told!r} not in:\n{text}"
    with sqlite3.connect(folder / "checkout.db") as db:
        orders = db.execute("SELECT count(*) FROM orders").fetchone()[0]
        labelled = db.execute("SELECT count(label_printed_at) FROM orders").fetchone()[0]
        unstocked = db.execute("SELECT items FROM orders WHERE stock_taken_at IS NULL").fetchall()
        lanes = dict(db.execute("SELECT lane, count(*) FROM orders GROUP BY lane").fetchall())
    assert orders == 72  # 50 + 10 + the poison one + 10 + the big one
    assert labelled == orders
    assert len(list((folder / "labels").glob("*.pdf"))) == orders
    assert unstocked == [('[{"sku": "GHOST-404", "quantity": 1}]',)]
    assert lanes == {"review": 1, "standard": orders - 1}
    with eventyard.connect(f"sqlite:///{folder / 'checkout.db'}") as client:
        depths = {name: client.get_queue(name).stats().total for name in client.list_queues()}
    assert depths == {"InventoryDLQ": 1, "InventoryQueue": 0, "ShippingDLQ": 0, "ShippingQueue": 0}


def test_the_demo_refuses_a_folder_that_already_has_a_shop(tmp_path: Path) -> None:
    (tmp_path / "checkout.db").write_bytes(b"")
    assert run_demo(str(tmp_path), exit_after=True) == 2
