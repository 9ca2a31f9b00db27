"""Smoke test of ``eventyard bench consume``: tiny numbers, the JSON shape, never the speed."""

from __future__ import annotations

import json

import pytest

from eventyard.benchmarks.consume import BATCH_SIZES, CONCURRENCIES, main


# Typically ~15 s (worker processes start and stop for every case); the timeout guards a hang.
@pytest.mark.timeout(180)
def test_consume_benchmark_runs_and_reports_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(messages=300, runs=1, durability="process", as_json=True, latency_sends=20)

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "consume"
    machine = result["machine"]
    for key in ("cpu_count", "python", "sqlite"):
        assert machine[key]
    assert len(machine["load_average_1m"]) == 2
    assert result["parameters"]["messages"] == 300
    assert set(result["durability"]) == {"process"}
    entry = result["durability"]["process"]
    assert set(entry["batch"]) == {str(size) for size in BATCH_SIZES}
    for size, per_batch in entry["batch"].items():
        raw = per_batch["raw"]
        assert raw["msgs_per_s"] > 0
        assert len(raw["runs"]) == 1
        assert set(per_batch["function"]) == {str(n) for n in CONCURRENCIES}
        for function in per_batch["function"].values():
            assert function["msgs_per_s"] > 0
            assert function["invocations_per_s"] > 0
            assert function["ratio_function_raw"] > 0
            (sample,) = function["runs"]
            # Every batch is full: 300 messages are 30 invocations of 10, or 3 of 100.
            assert sample["invocations"] == 300 // int(size)
            assert sample["ratio_function_raw"] > 0
    latency = entry["latency_ms"]
    assert latency["samples"] == 20
    assert 0 <= latency["p50"] <= latency["p99"] <= latency["max"]
    assert set(entry["target_met"]) == {"ratio", "latency"}
    assert all("ratio" in key or "latency" in key for key in result["targets"])


def test_consume_benchmark_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(messages=10, runs=1, durability="sometimes", as_json=True) == 2
    assert "durability" in capsys.readouterr().err
    assert main(messages=0, runs=1, as_json=True) == 2
    assert main(messages=100, runs=1, as_json=True, latency_sends=-1) == 2
