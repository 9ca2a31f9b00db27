"""Smoke test of ``eventyard bench fanout``: tiny numbers, the JSON shape, never the speed."""

from __future__ import annotations

import json

import pytest

from eventyard.benchmarks.fanout import BUS_MATCHING, QUEUE_COUNTS, main


# Typically a few seconds; the timeout only guards against a hang.
@pytest.mark.timeout(120)
def test_fanout_benchmark_runs_and_reports_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(messages=200, runs=1, durability="both", as_json=True)

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "fanout"
    machine = result["machine"]
    for key in ("cpu_count", "python", "sqlite"):
        assert machine[key]
    assert len(machine["load_average_1m"]) == 2
    assert result["parameters"]["messages"] == 200
    assert set(result["durability"]) == {"full", "process"}
    for entry in result["durability"].values():
        assert set(entry["baseline"]) == {str(n) for n in (*QUEUE_COUNTS, BUS_MATCHING)}
        for queues, baseline in entry["baseline"].items():
            assert baseline["copies_per_message"] == int(queues)
            assert baseline["copies_per_s"] > 0
            assert "ratio_copies_baseline" not in baseline
        assert set(entry["topic"]) == {str(n) for n in QUEUE_COUNTS}
        for queues, deliveries in entry["topic"].items():
            assert set(deliveries) == {"envelope", "raw"}
            for delivery in deliveries.values():
                assert delivery["copies_per_message"] == int(queues)
                assert delivery["published_msgs_per_s"] > 0
                assert len(delivery["runs"]) == 1
                assert delivery["ratio_copies_baseline"] > 0
            # The envelope wraps the ~200-byte message; raw delivery copies it as it is.
            assert deliveries["envelope"]["copy_bytes"] > deliveries["raw"]["copy_bytes"]
        bus = entry["bus"]
        assert bus["rules"] == 300
        assert bus["copies_per_message"] == BUS_MATCHING
        assert bus["ratio_copies_baseline"] > 0
        assert isinstance(entry["target_met"], bool)
    assert all("ratio" in key for key in result["targets"])


def test_fanout_benchmark_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(messages=10, runs=1, durability="sometimes", as_json=True) == 2
    assert "durability" in capsys.readouterr().err
    assert main(messages=0, runs=1, as_json=True) == 2
