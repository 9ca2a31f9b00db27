"""`eventyard demo` runs from start to end on a fresh file and tells the story."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

import eventyard
from eventyard.demo import run_demo


def test_demo_runs_the_whole_story(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    database = tmp_path / "demo.db"
    assert run_demo(str(database), console) == 0
    text = console.export_text()
    for step in ("1.", "2.", "3.", "4.", "5.", "6."):
        assert step in text
    assert "receive #3 of order 3" in text
    assert "dead-letter queue" in text
    assert "redrive completed: 1 of 1 moved" in text
    with eventyard.connect(f"sqlite:///{database}") as client:
        for name in ("orders", "orders-dlq"):
            assert client.get_queue(name).stats().total == 0
