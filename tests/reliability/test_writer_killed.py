"""SIGKILL a process in the middle of its send_batch calls: a batch is all there or not at all.

A writer child sends batches of 10 messages tagged (batch, index) as fast as
it can and logs each batch number once send_batch returned. The parent kills
it at random moments, starts a new writer, and kills again. Afterwards every
batch in the queue has exactly 10 messages (never 1-9), every acknowledged
batch is there, and the file passes SQLite's integrity check.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import defaultdict
from contextlib import closing
from pathlib import Path

import pytest
from children import spawn, wait_until

import eventyard

pytestmark = pytest.mark.slow

KILLS = 8
BATCH = 10
BATCHES_PER_WRITER = 1_000_000  # batch numbers of writer k start at k * this


def acknowledged_batches(acks: Path) -> set[int]:
    """The batches whose send_batch returned (a line cut by the kill does not count)."""
    text = acks.read_text() if acks.exists() else ""
    return {int(line) for line in text.split("\n")[:-1]}


@pytest.mark.parametrize("durability", ["full", "process"])
def test_killing_the_writer_never_leaves_a_partial_batch(tmp_path: Path, durability: str) -> None:
    db = tmp_path / "writer.db"
    acks = tmp_path / "acks.log"
    with eventyard.connect(f"sqlite:///{db}", durability=durability) as client:
        queue = client.create_queue("batches")
    rng = random.Random()
    delays = [rng.uniform(0.005, 0.200) for _ in range(KILLS)]
    for kill in range(KILLS):
        ready = tmp_path / f"ready-{kill}"
        writer = spawn(
            "write_batches",
            tmp_path,
            name=f"writer-{kill}",
            db=str(db),
            durability=durability,
            queue="batches",
            acks=str(acks),
            ready=str(ready),
            first_batch=kill * BATCHES_PER_WRITER,
        )
        try:
            wait_until(ready.exists, 30, f"writer {kill} to start", [writer])
            time.sleep(delays[kill])
            assert writer.process.poll() is None, f"writer died on its own:\n{writer.output()}"
        finally:
            writer.kill()
        assert "Traceback" not in writer.output(), writer.output()

    acknowledged = acknowledged_batches(acks)
    assert acknowledged, f"no batch was acknowledged before the kills (delays {delays})"

    with eventyard.connect(f"sqlite:///{db}", durability=durability) as client:
        queue = client.get_queue("batches")
        found: dict[int, set[int]] = defaultdict(set)
        deadline = time.monotonic() + 60
        while messages := queue.receive(max_messages=10, wait_seconds=0):
            assert time.monotonic() < deadline, "reading the queue back took over 60 s"
            for message in messages:
                batch, index = map(int, message.body.split(":"))
                assert message.attributes == {"batch": batch}
                assert index not in found[batch], f"batch {batch} has index {index} twice"
                found[batch].add(index)
            assert all(result.ok for result in queue.delete_batch(messages))

    partial = {batch: sorted(indexes) for batch, indexes in found.items() if len(indexes) != BATCH}
    assert partial == {}, f"partial batches (delays {delays})"
    assert acknowledged <= set(found), f"acknowledged batches lost: {acknowledged - set(found)}"
    # At most the batch in flight at each kill committed without being acknowledged.
    assert len(set(found) - acknowledged) <= KILLS

    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
