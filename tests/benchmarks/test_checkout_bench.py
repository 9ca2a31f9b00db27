"""Smoke test of ``eventyard bench checkout``: tiny numbers, the JSON shape, never the speed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from eventyard.benchmarks.checkout import SYSTEMS, main


# Typically ~15 s (two servers start, warm up, take 2 s of orders and stop); a hang trips it.
@pytest.mark.timeout(240)
def test_checkout_benchmark_runs_and_reports_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "checkout.png" if importlib.util.find_spec("matplotlib") else None
    code = main(
        clients=2,
        seconds=2,
        print_ms=0,
        runs=1,
        plot_file=None if plot is None else str(plot),
        as_json=True,
        drain_timeout=120,
        directory=str(tmp_path),
    )

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["benchmark"] == "checkout"
    machine = result["machine"]
    for key in ("cpu_count", "python", "sqlite"):
        assert machine[key]
    assert len(machine["load_average_1m"]) == 2
    parameters = result["parameters"]
    assert (parameters["clients"], parameters["seconds"], parameters["print_ms"]) == (2, 2, 0)
    assert set(result["systems"]) == set(SYSTEMS)
    for entry in result["systems"].values():
        assert entry["accepted_per_s"] > 0
        assert entry["drained"] is True
        (sample,) = entry["runs"]
        # Every accepted order was found in the database with its stock and its label.
        assert sample["accepted"] > 0
        assert sample["requests"] == sample["accepted"] + sample["errors"]
        assert sample["orders_missing"] == sample["labels_pending"] == 0
        assert sample["stock_pending"] == 0
        for key in ("post_ms", "to_stock_ms", "to_label_ms"):
            assert 0 <= sample[key]["p50"] <= sample[key]["p99"]
        assert sample["label_drain_s"] >= 0
        series = sample["series"]
        assert len(series["accepted"]) == len(series["p50_ms"]) == len(series["p99_ms"]) == 2
        assert sum(series["accepted"]) == sample["accepted"]
    assert result["ratio_event_driven_synchronous"] > 0
    assert set(result["target_met"]) == {"post_p99", "ratio"}
    if plot is not None:
        assert plot.read_bytes().startswith(b"\x89PNG")


def test_checkout_benchmark_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(clients=0, seconds=1, runs=1) == 2
    assert "clients" in capsys.readouterr().err
    assert main(clients=1, seconds=0, runs=1) == 2
    assert main(clients=1, seconds=1, runs=0) == 2
    assert main(clients=1, seconds=1, print_ms=-1, runs=1) == 2
    assert "print-ms" in capsys.readouterr().err
