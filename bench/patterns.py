"""Benchmark: one event against 10, 100 and 300 event-pattern rules.

Measures events/s through ``RuleIndex.match`` and, in the same run, through
the naive loop ``[rule for rule in rules if compile_pattern(rule).matches(event)]``
(patterns compiled once, outside the timing). The rules have a realistic
shape: every rule names a ``source``; most name a ``detail-type``; the detail
conditions mix exact values, ``prefix``, ``numeric`` ranges, ``anything-but``
and ``exists``. Five rules are about the benchmarked event's type; the others
are about other event types (see ``make_rules``). The event is a parsed dict
(an event bus parses once, then routes), about 30 fields including an array of
objects.

Reports the median of 5 runs and the ratios that matter: index cost at 300
rules / at 10 rules (target <= 3x) and index speed-up over the naive loop.

    python bench/patterns.py            # table
    python bench/patterns.py --json     # machine-readable
    python bench/patterns.py --iterations 2000 --repeats 3 --sizes 10,1000

Imports only the public API of ``eventyard.patterns``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:
    from eventyard.patterns import RuleIndex, compile_pattern
except ImportError:  # running from a checkout without an installed package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from eventyard.patterns import RuleIndex, compile_pattern

SIZES = (10, 100, 300)
SERVICES = (
    "orders",
    "payments",
    "shipping",
    "inventory",
    "customers",
    "catalog",
    "reviews",
    "returns",
    "billing",
    "search",
)
ENTITIES = ("Order", "Payment", "Shipment", "Item", "Customer")
VERBS = ("Placed", "Cancelled", "Updated", "Failed")

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "OrderPlaced",
    "source": "com.shop.orders",
    "account": "111122223333",
    "time": "2026-03-01T18:43:48Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:shop:eu-west-1:111122223333:order/o-1001"],
    "detail": {
        "orderId": "o-1001",
        "status": "PLACED",
        "state": "pending",
        "total": 1234.5,
        "currency": "EUR",
        "region": "eu-west-1",
        "channel": "web",
        "customer": {"id": "c-42", "tier": "gold", "country": "DE"},
        "items": [{"sku": "A-100", "quantity": 2}, {"sku": "B-200", "quantity": 1}],
        "coupon": None,
    },
}


#: Rules written for the benchmarked event's own source and detail-type (one
#: of each shape); every other rule is about some other event, as on a real
#: bus where adding rules for new event types must not slow down old ones.
TARGETED_RULES = 5


def make_rules(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` rules: ``TARGETED_RULES`` about ``EVENT``'s type, the rest about others.

    The others draw a source among 10 and a detail-type among 20 at random,
    so a few of them also concern the benchmarked event, by chance.
    """
    chooser = random.Random(seed)
    rules: list[dict[str, Any]] = []
    for number in range(count):
        if number < TARGETED_RULES:
            source, detail_type = "com.shop.orders", "OrderPlaced"
        else:
            source = f"com.shop.{chooser.choice(SERVICES)}"
            detail_type = chooser.choice(ENTITIES) + chooser.choice(VERBS)
        shape = number % 5
        if shape == 0:
            detail: dict[str, Any] = {"status": [chooser.choice(["PLACED", "PAID", "NEW"])]}
        elif shape == 1:
            detail = {"region": [{"prefix": chooser.choice(["eu-", "us-", "ap-"])}]}
        elif shape == 2:
            low = chooser.choice([0, 100, 1000])
            detail = {"total": [{"numeric": [">", low, "<=", low * 10 + 500]}]}
        elif shape == 3:
            detail = {
                "state": [{"anything-but": ["cancelled", "failed"]}],
                "channel": ["web", "mobile"],
            }
        else:
            detail = {"customer": {"tier": ["gold", "platinum"]}, "coupon": [{"exists": False}]}
        rule: dict[str, Any] = {"source": [source], "detail": detail}
        if shape != 3:
            rule["detail-type"] = [detail_type]
        rules.append(rule)
    return rules


def _events_per_second(step: Callable[[], object], iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    elapsed = time.perf_counter() - start
    return iterations / elapsed if elapsed > 0 else float("inf")


class _Setup:
    """One rule count: the index, the compiled patterns, and the two ways to match."""

    def __init__(self, size: int) -> None:
        self.size = size
        rules = make_rules(size)
        self.index: RuleIndex[int] = RuleIndex()
        for number, rule in enumerate(rules):
            self.index.add(number, rule)
        self.compiled = [compile_pattern(rule) for rule in rules]
        self.expected = self.naive_loop()
        if self.through_index() != self.expected:
            raise AssertionError(f"index and naive loop disagree at {size} rules")

    def through_index(self) -> list[int]:
        return self.index.match(EVENT)

    def naive_loop(self) -> list[int]:
        return [number for number, pattern in enumerate(self.compiled) if pattern.matches(EVENT)]


def run(iterations: int = 20_000, repeats: int = 5, sizes: Sequence[int] = SIZES) -> dict[str, Any]:
    """Measure every size; returns the figures and ratios as a dict.

    The sizes take turns within each repeat, so a noisy neighbour on a shared
    machine slows all of them alike instead of skewing one.
    """
    setups = [_Setup(size) for size in sizes]
    index_runs: dict[int, list[float]] = {setup.size: [] for setup in setups}
    naive_runs: dict[int, list[float]] = {setup.size: [] for setup in setups}
    for _ in range(repeats):
        for setup in setups:
            index_runs[setup.size].append(_events_per_second(setup.through_index, iterations))
            naive_runs[setup.size].append(
                _events_per_second(setup.naive_loop, max(1, iterations // 10))
            )
    results = []
    for setup in setups:
        index_rate = statistics.median(index_runs[setup.size])
        naive_rate = statistics.median(naive_runs[setup.size])
        results.append(
            {
                "rules": setup.size,
                "matching_rules": len(setup.expected),
                "index_events_per_second": index_rate,
                "naive_events_per_second": naive_rate,
                "index_speedup_over_naive": index_rate / naive_rate,
            }
        )
    smallest, largest = results[0], results[-1]
    return {
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "iterations": iterations,
        "repeats": repeats,
        "results": results,
        # cost per event at the most rules / at the fewest (target <= 3)
        "index_cost_ratio": smallest["index_events_per_second"]
        / largest["index_events_per_second"],
        "naive_cost_ratio": smallest["naive_events_per_second"]
        / largest["naive_events_per_second"],
    }


def _print_table(report: dict[str, Any]) -> None:
    machine = report["machine"]
    print(
        f"event patterns: one event vs N rules, median of {report['repeats']} runs "
        f"(Python {machine['python']}, {machine['cpus']} CPUs, {machine['platform']})"
    )
    print(f"{'rules':>6} {'matching':>9} {'index ev/s':>12} {'naive ev/s':>12} {'speed-up':>9}")
    for result in report["results"]:
        print(
            f"{result['rules']:>6} {result['matching_rules']:>9} "
            f"{result['index_events_per_second']:>12,.0f} "
            f"{result['naive_events_per_second']:>12,.0f} "
            f"{result['index_speedup_over_naive']:>8.1f}x"
        )
    sizes = [result["rules"] for result in report["results"]]
    print(
        f"cost per event at {sizes[-1]} rules vs {sizes[0]}: index "
        f"{report['index_cost_ratio']:.2f}x (target <= 3), naive {report['naive_cost_ratio']:.2f}x"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--iterations", type=int, default=20_000, help="events per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (median)")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        default=SIZES,
        help="comma-separated rule counts (default 10,100,300)",
    )
    arguments = parser.parse_args(argv)
    report = run(iterations=arguments.iterations, repeats=arguments.repeats, sizes=arguments.sizes)
    if arguments.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
