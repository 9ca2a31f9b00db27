"""Smoke test of ``eventyard bench queue``: tiny numbers, the JSON shape, never the speed."""

from __future__ import annotations

import json

import pytest

from eventyard.benchmarks.queue import main


# Typically ~10 s; the timeout only guards against a hung child process.
@pytest.mark.timeout(120)
def test_queue_benchmark_runs_and_reports_json(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("huey")

    code = main(messages=300, runs=1, durability="both", peers=True, as_json=True, latency_sends=20)

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    machine = result["machine"]
    for key in ("cpu_count", "python", "sqlite"):
        assert machine[key]
    assert result["parameters"]["messages"] == 300
    assert set(result["durability"]) == {"full", "process"}
    for entry in result["durability"].values():
        assert set(entry["systems"]) == {"eventyard", "raw_sqlite", "huey"}
        for system in entry["systems"].values():
            assert system["msgs_per_s"] > 0
            assert len(system["runs"]) == 1
        ratios = {key: value for key, value in entry.items() if "ratio" in key}
        assert set(ratios) == {"ratio_eventyard_raw", "ratio_eventyard_huey"}
        assert all(value > 0 for value in ratios.values())
        latency = entry["latency_ms"]
        assert latency["samples"] == 20
        assert 0 <= latency["p50"] <= latency["p99"]


def test_queue_benchmark_rejects_a_bad_durability(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(messages=10, runs=1, durability="sometimes", as_json=True) == 2
    assert "durability" in capsys.readouterr().err
