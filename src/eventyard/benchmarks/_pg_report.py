"""The table `eventyard bench postgres` prints: drain, producer, function, latency, churn."""

from __future__ import annotations

from typing import Any, Final

#: The issue's targets: >= 1.5x PGQueuer with 2 consumers (batch 10); growth 1 -> 2; p50 <= 5 ms.
TARGET_CONSUMERS: Final = 2
TARGET_RATIO_PGQUEUER: Final = 1.5
TARGET_LATENCY_P50_MS: Final = 5.0
LABELS: Final = {
    "eventyard": "eventyard",
    "function": "eventyard function",
    "raw_psycopg": "raw psycopg",
    "pgqueuer": "PGQueuer (asyncpg)",
    "pgqueuer_x5": "PGQueuer x5 per process",
    "raw_notify": "raw NOTIFY→LISTEN",
}
PRODUCER_LABELS: Final = {
    "eventyard": "eventyard send_batch(10)",
    "raw_psycopg": "raw INSERT of 10 (unnest)",
    "pgqueuer": "PGQueuer enqueue(10 jobs)",
    "pgqueuer_x5": "PGQueuer enqueue(10 jobs), again",
}


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def render(result: dict[str, Any]) -> str:
    """The human-readable report of a `run` result."""
    machine, parameters, server = result["machine"], result["parameters"], result["server"]
    settings = server["settings"]
    lines = [
        f"eventyard bench postgres: {parameters['messages']:,} messages of "
        f"~{parameters['body_bytes']} bytes, batches of {parameters['batch']}; 1 producer "
        f"process, {'/'.join(map(str, parameters['consumer_processes']))} consumer processes;"
        f" median of {parameters['runs']} run(s); "
        + ("ANALYZE after each fill" if parameters["analyze_after_fill"] else "no ANALYZE"),
        f"machine: {machine['cpu_count']} CPUs, {machine['platform']}, Python {machine['python']};"
        f" psycopg {machine['psycopg']}, PGQueuer {machine['pgqueuer'] or '-'}, asyncpg "
        f"{machine['asyncpg'] or '-'} ({parameters['pgqueuer_event_loop'] or '-'}); load average"
        f" {machine['load_average_1m'][0]} before, {machine['load_average_1m'][-1]} after; "
        f"eventyard {machine['eventyard']} ({machine['eventyard_revision'] or 'not a checkout'})",
        f"server: PostgreSQL {settings['server_version']} "
        f"({'throwaway, pgserver' if server['throwaway'] else server['url']}); "
        + ", ".join(f"{k}={v}" for k, v in settings.items() if k != "server_version"),
    ]
    for name, reason in result["skipped"].items():
        lines.append(f"skipped {name}: {reason}")
    for durability, entry in result["durability"].items():
        lines += ["", f"durability={durability} (synchronous_commit={entry['synchronous_commit']})"]
        producer = entry.get("producer")
        if producer:
            lines.append(
                "  producer, 1 process, 10 per call, each its own commit (CPU in µs per message,"
            )
            lines.append(
                f"{'  commits per call):':<54}"
                f"{'msgs/s':>12}{'client µs/msg':>15}{'server µs/msg':>15}{'commits/10':>12}"
            )
            for name, system in producer["systems"].items():
                lines.append(
                    f"    {PRODUCER_LABELS[name]:<50}{system['msgs_per_s']:>12,}"
                    f"{_fmt(system['client_cpu_us_per_msg'], '.1f'):>15}"
                    f"{_fmt(system['server_cpu_us_per_msg'], '.1f'):>15}"
                    f"{_fmt(system['commits_per_batch'], '.2f'):>12}"
                )
            lines.append(
                f"    eventyard / raw: {_fmt(producer['ratio_eventyard_raw'], '.2f')}; "
                f"eventyard / PGQueuer: {_fmt(producer['ratio_eventyard_pgqueuer'], '.2f')}"
            )
        lines.append("  drain of a pre-filled queue, batches of 10 (client CPU: the consumers', or")
        lines.append("  the supervisor's for the function; server CPU: postmaster and backends):")
        for consumers, block in entry["drain"].items():
            lines.append(
                f"    {f'{consumers} consumer process(es):':<27}{'msgs/s':>9}   {'runs':<30}"
                f"{'client':>8}{'server':>8}{'commits':>8}"
            )
            for name, system in block["systems"].items():
                each = " / ".join(f"{s['msgs_per_s']:,}" for s in system["runs"])
                client_cpu = system.get(
                    "client_cpu_us_per_msg", system.get("supervisor_cpu_us_per_msg")
                )
                lines.append(
                    f"      {LABELS[name]:<25}{system['msgs_per_s']:>9,}   {each:<30}"
                    f"{_fmt(client_cpu, '.1f'):>8}{_fmt(system['server_cpu_us_per_msg'], '.1f'):>8}"
                    f"{_fmt(system['commits_per_batch'], '.2f'):>8}"
                )
            ratios = [
                f"{label} {_fmt(block[key], '.2f')}"
                for key, label in (
                    ("ratio_eventyard_raw", "eventyard/raw"),
                    ("ratio_eventyard_pgqueuer", "eventyard/PGQueuer"),
                    ("ratio_eventyard_pgqueuer_x5", "eventyard/PGQueuer x5"),
                    ("ratio_function_best_pgqueuer", "function/best PGQueuer"),
                    ("ratio_function_eventyard", "function/eventyard"),
                )
                if block[key] is not None
            ]
            if ratios:
                lines.append("      " + "; ".join(ratios))
        met = entry["target_met"]
        target = entry["drain"].get(str(TARGET_CONSUMERS), {})
        if met["ratio_pgqueuer"] is not None:
            lines.append(
                f"  target eventyard / PGQueuer (the faster of its set-ups, here "
                f"{LABELS[target['best_pgqueuer']]}) ≥ {TARGET_RATIO_PGQUEUER:g} with "
                f"{TARGET_CONSUMERS} consumers: {target['ratio_eventyard_best_pgqueuer']:.2f} "
                f"({'met' if met['ratio_pgqueuer'] else 'missed'}; per run: "
                + " / ".join(
                    _fmt(r, ".2f") for r in target["ratio_eventyard_best_pgqueuer_per_run"]
                )
                + ")"
            )
        if met["growth_1_to_2"] is not None:
            lines.append(
                f"  target: eventyard grows from 1 to 2 consumers: "
                f"{'met' if met['growth_1_to_2'] else 'missed'}"
            )
        latency = entry["latency_ms"]
        if latency:
            lines.append(
                f"  wake-up latency, send → receive ({parameters['latency_sends']} single sends "
                f"{parameters['latency_gap_ms'][0]:g}-{parameters['latency_gap_ms'][1]:g} ms "
                "apart):"
            )
            for name, figures in latency.items():
                lines.append(
                    f"    {LABELS[name]:<22} p50 {figures['p50']:.2f} ms, p99 {figures['p99']:.2f}"
                    f" ms, max {figures['max']:.2f} ms"
                )
            lines.append(
                f"  target eventyard p50 ≤ {TARGET_LATENCY_P50_MS:g} ms: "
                f"{'met' if met['latency'] else 'missed'}"
            )
    churn = result.get("churn")
    if churn:
        from eventyard.benchmarks import _pg_churn

        lines += ["", *_pg_churn.render(churn)]
    return "\n".join(lines)
