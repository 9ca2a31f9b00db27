"""The pattern benchmark runs end to end (tiny sizes; speed is never asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "patterns.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_patterns", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_and_reports_every_size() -> None:
    bench = load_bench()
    report = bench.run(iterations=20, repeats=1, sizes=(10, 30))
    assert [result["rules"] for result in report["results"]] == [10, 30]
    for result in report["results"]:
        assert result["index_events_per_second"] > 0
        assert result["naive_events_per_second"] > 0
        assert result["matching_rules"] >= 1
    assert report["index_cost_ratio"] > 0


def test_benchmark_command_line_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    assert bench.main(["--json", "--iterations", "10", "--repeats", "1", "--sizes", "10"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["results"][0]["rules"] == 10
