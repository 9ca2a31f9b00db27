"""Smoke tests of ``eventyard bench postgres``: tiny numbers, the JSON shape, never the speed."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("psycopg")

from eventyard.benchmarks import _pg_churn, _pg_server
from eventyard.benchmarks.postgres import main, render


def _pgqueuer_installed() -> bool:
    try:
        import asyncpg  # type: ignore[import-untyped]  # noqa: F401
        import pgqueuer  # noqa: F401
    except ImportError:
        return False
    return True


# Typically ~8 s (a dozen short-lived processes); the timeout only guards against a hang.
@pytest.mark.timeout(180)
def test_drain_and_latency_report_their_shape(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        db=postgres_url,
        messages=200,
        runs=1,
        consumers="2",
        as_json=True,
        parts=("queue", "latency"),
        latency_sends=10,
    )

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["parameters"]["messages"] == 200
    assert result["parameters"]["consumer_processes"] == [2]
    assert result["server"]["settings"]["synchronous_commit"]
    assert not result["server"]["throwaway"]
    peers = {"pgqueuer"} if _pgqueuer_installed() else set()
    assert set(result["skipped"]) == {"pgqueuer"} - peers
    entry = result["durability"]["full"]
    producer = entry["producer"]["systems"]
    assert set(producer) == {"eventyard", "raw_psycopg"} | peers
    assert all(system["msgs_per_s"] > 0 for system in producer.values())
    drain = entry["drain"]["2"]
    drained_peers = {"pgqueuer", "pgqueuer_x5"} if peers else set()
    assert set(drain["systems"]) == {"eventyard", "raw_psycopg"} | drained_peers
    for system in drain["systems"].values():
        assert system["msgs_per_s"] > 0
        assert len(system["runs"]) == 1
        assert sum(system["runs"][0]["per_consumer"]) == 200
        assert system["client_cpu_us_per_msg"] > 0
    assert drain["ratio_eventyard_raw"] > 0
    assert (drain["ratio_eventyard_best_pgqueuer"] is not None) == bool(peers)
    assert len(drain["ratio_eventyard_best_pgqueuer_per_run"]) == len(peers)
    latency = entry["latency_ms"]
    assert set(latency) == {"eventyard", "raw_notify"} | peers
    for figures in latency.values():
        assert figures["samples"] == 10
        assert 0 <= figures["p50"] <= figures["p99"]
    assert set(entry["target_met"]) == {"ratio_pgqueuer", "growth_1_to_2", "latency"}
    assert "eventyard/raw" in render(result)


@pytest.mark.timeout(180)
def test_function_drain_reports_its_shape(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        db=postgres_url,
        messages=100,
        runs=1,
        consumers="1",
        as_json=True,
        parts=("function",),
    )

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    entry = result["durability"]["full"]
    assert "producer" not in entry
    assert entry["latency_ms"] is None
    function = entry["drain"]["1"]["systems"]["function"]
    assert function["msgs_per_s"] > 0
    assert function["runs"][0]["invocations"] == 10


@pytest.mark.timeout(120)
def test_churn_samples_the_message_table(postgres_url: str) -> None:
    server = _pg_server.Server(postgres_url, throwaway=False)

    churn = _pg_churn.measure(
        server, 450, "process", lambda _: None, sample_seconds=0.2, settle_seconds=0.3
    )

    assert churn["messages"] == 500  # whole transactions of 100
    assert churn["deleted"] == 500
    assert churn["msgs_per_s"] > 0
    phases = [sample["phase"] for sample in churn["samples"]]
    assert phases[0] == "start"
    assert "end" in phases
    assert churn["end"]["sent"] == churn["end"]["deleted"] == 500
    assert churn["final"]["total_bytes"] > 0
    assert churn["checkpoints"][-1]["fraction"] == 1.0
    assert any("table+indexes" in line for line in _pg_churn.render(churn))


def test_the_throwaway_server_starts_and_reports_its_settings() -> None:
    pytest.importorskip("pgserver")

    with _pg_server.throwaway_server() as server:
        settings = _pg_server.server_settings(server.url)
        cpu = _pg_server.server_cpu_seconds(server.postmaster_pid)

    assert server.throwaway
    assert settings["server_version"]
    assert settings["fsync"] in ("on", "off")
    assert cpu is None or cpu >= 0


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"durability": "sometimes"}, "durability"),
        ({"consumers": "0"}, "consumers"),
        ({"parts": ("queue", "everything")}, "unknown parts"),
        ({"db": "sqlite:///x.db"}, "postgresql://"),
    ],
)
def test_bad_arguments_are_refused(
    arguments: dict[str, object], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(**arguments) == 2  # type: ignore[arg-type]
    assert complaint in capsys.readouterr().err


def test_the_cli_offers_the_benchmark() -> None:
    from typer.testing import CliRunner

    from eventyard.cli import app

    done = CliRunner().invoke(app, ["bench", "postgres", "--help"])

    assert done.exit_code == 0
    for option in ("--db", "--consumers", "--churn", "--json"):
        assert option in done.output


def test_urls_keep_libpq_parameters_and_drop_eventyards() -> None:
    url = "postgresql://u:secret@/db?host=/tmp/sock&schema=a&pool_size=3"

    assert _pg_server.conninfo(url) == "postgresql://u:secret@/db?host=%2Ftmp%2Fsock"
    assert "schema=b" in _pg_server.with_schema(url, "b")
    assert "schema=a" not in _pg_server.with_schema(url, "b")
    assert "secret" not in _pg_server.redacted(url)
