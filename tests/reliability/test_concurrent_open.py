"""Several processes open the same brand-new database file at the same moment.

They all create the same queues and send a message. None may fail (not even
with "database is locked" while another one sets WAL mode or migrates), the
schema is migrated exactly once (one row per version in ``eventyard_schema``),
and each queue exists once.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from children import spawn, start_together, stop_all

import eventyard
from eventyard.store.sqlite.schema import SCHEMA_VERSION

pytestmark = pytest.mark.slow

OPENERS = 4
ROUNDS = 3  # a fresh file each round: more chances to hit the race


@pytest.mark.parametrize("durability", ["full", "process"])
def test_processes_opening_a_fresh_file_at_once_migrate_it_exactly_once(
    tmp_path: Path, durability: str
) -> None:
    for round_number in range(ROUNDS):
        directory = tmp_path / f"round-{round_number}"
        directory.mkdir()
        db = directory / "fresh.db"
        go = directory / "go"
        openers = [
            spawn(
                "open_fresh",
                directory,
                name=f"opener-{n}",
                db=str(db),
                durability=durability,
                go=str(go),
                opener=n,
            )
            for n in range(OPENERS)
        ]
        try:
            start_together(openers, go)
            reports = [opener.finish(timeout=60) for opener in openers]
        finally:
            stop_all(openers)

        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as check:
            versions = check.execute(
                "SELECT version, count(*) FROM eventyard_schema GROUP BY version ORDER BY version"
            ).fetchall()
            assert versions == [(v, 1) for v in range(1, SCHEMA_VERSION + 1)]
            queues = check.execute(
                "SELECT name FROM eventyard_queues WHERE name NOT LIKE '%:%' ORDER BY name"
            ).fetchall()
            assert queues == [("shared",), ("shared-dlq",)]
            assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)

        with eventyard.connect(f"sqlite:///{db}", durability=durability) as client:
            queue = client.get_queue("shared")
            messages = queue.receive(max_messages=10, wait_seconds=0)
            assert sorted(m.body["opener"] for m in messages) == list(range(OPENERS))
            assert {m.message_id for m in messages} == {r["message_id"] for r in reports}
