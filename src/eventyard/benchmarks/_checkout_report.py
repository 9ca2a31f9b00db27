"""The checkout benchmark's report: a rich table with the ratio and the targets, and the plot."""

from __future__ import annotations

from typing import Any

from eventyard.benchmarks._checkout_server import SYSTEMS

TARGET_P99_MS = 50.0
TARGET_RATIO = 3.0
#: The ratio target is stated for labels that take this long to print.
TARGET_PRINT_MS = 20


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == " ms" and value >= 1000:
        return f"{value / 1000:,.{2 if value < 10_000 else 0}f} s"
    return f"{value:,.1f}{unit}" if value < 10_000 else f"{value:,.0f}{unit}"


def _pair(entry: dict[str, Any], key: str) -> str:
    return f"{_fmt(entry[key]['p50'], ' ms')} / {_fmt(entry[key]['p99'], ' ms')}"


def render(result: dict[str, Any]) -> None:
    """Print the report: a rich table of medians, the ratio and the targets."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a file or a pipe: do not squeeze the table into 80 columns
        console = Console(width=150)
    machine, parameters = result["machine"], result["parameters"]
    console.print(
        f"eventyard bench checkout: {parameters['clients']} concurrent HTTP clients placing orders "
        f"for {parameters['seconds']:g} s, labels take {parameters['print_ms']} ms to print; "
        f"median of {parameters['runs']} run(s)"
    )
    console.print(
        f"machine: {machine['cpu_count']} CPUs, {machine['platform']}, Python {machine['python']},"
        f" SQLite {machine['sqlite']}; one fsync ≈ {machine['fsync_ms']} ms here; load average "
        f"{machine['load_average_1m'][0]} before, {machine['load_average_1m'][-1]} after;"
        f" eventyard {machine['eventyard']} ({machine['eventyard_revision'] or 'not a checkout'})"
    )
    table = Table()
    for column in (
        "system",
        "orders/s",
        "errors",
        "POST p50 / p99",
        "→ stock p50 / p99",
        "→ label p50 / p99",
        "labels drained",
        "runs (orders/s)",
    ):
        table.add_column(column, justify="left" if column == "system" else "right")
    for system, (_, label) in SYSTEMS.items():
        entry = result["systems"][system]
        drained = _fmt(entry["label_drain_s"], " s") + ("" if entry["drained"] else " (timeout)")
        table.add_row(
            label,
            _fmt(entry["accepted_per_s"]),
            f"{entry['errors']:g}",
            _pair(entry, "post_ms"),
            _pair(entry, "to_stock_ms"),
            _pair(entry, "to_label_ms"),
            drained,
            " / ".join(f"{s['accepted_per_s']:,.1f}" for s in entry["runs"]),
        )
    console.print(table)
    ratio = result["ratio_event_driven_synchronous"]
    met = result["target_met"]
    p99 = result["systems"]["event_driven"]["post_ms"]["p99"]

    def verdict(ok: bool) -> str:
        return "[green]met[/green]" if ok else "[red]missed[/red]"

    console.print(
        f"event-driven / synchronous accepted orders/s: [bold]{_fmt(ratio)}x[/bold] "
        f"(target ≥ {TARGET_RATIO:g}x with {TARGET_PRINT_MS} ms labels: {verdict(met['ratio'])}"
        + (
            ""
            if parameters["print_ms"] == TARGET_PRINT_MS
            else f"; this run used {parameters['print_ms']} ms"
        )
        + ")"
    )
    console.print(
        f"event-driven POST /checkout p99: [bold]{_fmt(p99, ' ms')}[/bold] (target ≤ "
        f"{TARGET_P99_MS:g} ms at the rate the machine sustains: {verdict(met['post_p99'])})"
    )


def plot(result: dict[str, Any], path: str) -> None:
    """Accepted orders/s and POST p50/p99 per second of the load, and the label backlog.

    Each system's run is the one with its median accepted orders/s.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parameters = result["parameters"]
    figure = plt.figure(figsize=(9, 10))
    rate = figure.add_subplot(3, 1, 1)
    latency = figure.add_subplot(3, 1, 2, sharex=rate)
    backlog = figure.add_subplot(3, 1, 3)
    colours = {"event_driven": "tab:blue", "synchronous": "tab:red"}
    for system, (_, label) in SYSTEMS.items():
        taken = result["systems"][system]["runs"]
        ranked = sorted(taken, key=lambda sample: sample["accepted_per_s"])
        series = ranked[(len(ranked) - 1) // 2]["series"]
        colour = colours[system]
        seconds = [second + 0.5 for second in range(len(series["accepted"]))]
        rate.plot(seconds, series["accepted"], color=colour, label=label)
        latency.plot(seconds, series["p50_ms"], color=colour, label=f"{label} p50")
        latency.plot(seconds, series["p99_ms"], color=colour, linestyle="--", label=f"{label} p99")
        backlog.plot(
            range(1, len(series["label_backlog"]) + 1),
            series["label_backlog"],
            color=colour,
            label=label,
        )
    rate.set_ylabel("accepted orders / s")
    rate.set_ylim(bottom=0)
    rate.set_xlim(0, parameters["seconds"])
    rate.legend(loc="lower left", fontsize="small")
    latency.set_ylabel("POST /checkout latency (ms)")
    latency.set_yscale("log")
    latency.set_xlabel("seconds since the load started (by request start)")
    latency.axhline(TARGET_P99_MS, color="grey", linewidth=0.8, linestyle=":")
    latency.legend(loc="lower left", fontsize="x-small", ncol=2)
    backlog.set_ylabel("orders waiting for a label")
    backlog.set_xlabel("seconds since the load started (the load ends at the dotted line)")
    backlog.axvline(parameters["seconds"], color="grey", linewidth=0.8, linestyle=":")
    backlog.set_ylim(bottom=0)
    backlog.legend(loc="upper right", fontsize="small")
    figure.suptitle(
        f"eventyard bench checkout: {parameters['clients']} clients, {parameters['seconds']:g} s, "
        f"labels {parameters['print_ms']} ms each (median run of {parameters['runs']})"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
