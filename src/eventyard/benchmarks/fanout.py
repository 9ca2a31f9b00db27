"""``eventyard bench fanout``: topic and event-bus fan-out against sending the copies directly.

One process, the publisher (consumers are not part of this measurement),
on a new SQLite file for every measurement. For each durability setting:

* **baseline** (N queues): ``queue.send_batch`` of 10 bodies of ~200 bytes
  to each of N queues, i.e. N ``send_batch`` calls (N transactions) per
  batch: the same number of copies a fan-out to N queues produces;
* **topic** (N = 2, 5, 10 subscribed queues, no filter policy):
  ``topic.publish_batch`` of 10, one transaction per batch, once with the
  SNS notification envelope (the default) and once with raw delivery;
* **bus**: ``bus.put_events`` batches of 10 on a bus of 300 rules (exact
  source/detail-type, prefix, numeric, anything-but, nested...) of which
  exactly 3 match every event, each rule with one queue target: 3 copies
  per event, compared with the baseline to 3 queues.

Published msgs/s = messages / the time of the publishing loop; delivered
copies/s = that * copies per message; ratio = copies/s ÷ the baseline's
copies/s at the same number of queues (medians of the runs; each run also
carries its own ratio against the baseline of the same run). Inputs are
built and one untimed warm-up message goes through each case before the
clock starts (handles cache their routes and statements on first use);
after the clock stops, every queue is checked to hold exactly its copies.
Runs are interleaved (run 1 of every case, then run 2...) so that a noisy
neighbour on a shared machine slows all of them alike.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, cast

import eventyard
from eventyard.benchmarks._harness import (
    BATCH,
    BODY_BYTES,
    BenchmarkError,
    Durability,
    batches,
    bodies,
)
from eventyard.benchmarks.queue import DURABILITIES, SYNCHRONOUS, _machine, _progress, _ratio
from eventyard.patterns import compile_pattern

Case = Literal["baseline", "topic", "topic_raw", "bus"]

QUEUE_COUNTS: Final = (2, 5, 10)
BUS_RULES: Final = 300
BUS_MATCHING: Final = 3
#: The issue's target: fan-out to 2 queues delivers copies at >= 70 % of the direct sends.
TARGET_QUEUES: Final = 2
TARGET_RATIO: Final = 0.7
LABELS: Final[dict[Case, str]] = {
    "baseline": "send_batch x N",
    "topic": "topic (envelope)",
    "topic_raw": "topic (raw)",
    "bus": f"bus ({BUS_RULES} rules)",
}
_TOPIC: Final = "bench-fanout"
_BUS: Final = "bench-bus"
_WARM_UP: Final = 1  # untimed messages through each case before the clock starts

# -- the bus: 300 rules of realistic shapes, exactly 3 of which match every event --------------
_SOURCE: Final = "com.shop.orders"
_DETAIL_TYPE: Final = "OrderPlaced"
_SERVICES: Final = (
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
_ENTITIES: Final = ("Order", "Payment", "Shipment", "Item", "Customer")
_VERBS: Final = ("Placed", "Cancelled", "Updated", "Failed")
#: Rules about the events' own source and type whose detail condition fails (near misses).
_NEAR_MISSES: Final = 12


def _detail(index: int) -> dict[str, Any]:
    """The detail of event ``index``: ~200 bytes of JSON, as the queue bodies."""
    return {
        "orderId": f"o-{index:08d}",
        "status": "PLACED",
        "state": "pending",
        "total": 100 + index % 900 + 0.5,
        "currency": "EUR",
        "region": "eu-west-1",
        "channel": "web",
        "customer": {"id": f"c-{index % 1000:04d}", "tier": "gold", "country": "DE"},
        "items": [{"sku": "A-100", "quantity": 2}, {"sku": "B-200", "quantity": 1}],
        "coupon": None,
    }


def _entries(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {"source": _SOURCE, "detail_type": _DETAIL_TYPE, "detail": _detail(start + i)}
        for i in range(count)
    ]


def _shaped(shape: int, hit: bool) -> dict[str, Any]:
    """A detail condition of one of five shapes; ``hit``: whether `_detail` satisfies it."""
    if shape == 0:
        return {"status": ["PLACED" if hit else "CANCELLED"]}
    if shape == 1:
        return {"region": [{"prefix": "eu-" if hit else "us-"}]}
    if shape == 2:
        bounds = [">", 0, "<=", 1000] if hit else [">", 5000]
        return {"total": [{"numeric": bounds}]}
    if shape == 3:
        return {
            "state": [{"anything-but": ["cancelled", "failed"] if hit else ["pending"]}],
            "channel": ["web", "mobile"],
        }
    return {"customer": {"tier": ["gold" if hit else "platinum"]}, "coupon": [{"exists": False}]}


def bus_rules(count: int = BUS_RULES, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` event patterns of which exactly `BUS_MATCHING` match every event of `_entries`.

    The first 3 match (exact, prefix, numeric + anything-but); then come near
    misses on the same source and detail-type; the rest are about other
    event types of 10 services (shapes as in ``bench/patterns.py``).
    """
    chooser = random.Random(seed)
    rules: list[dict[str, Any]] = [
        {"source": [_SOURCE], "detail-type": [_DETAIL_TYPE], "detail": _shaped(0, True)},
        {"source": [_SOURCE], "detail-type": [_DETAIL_TYPE], "detail": _shaped(1, True)},
        {"source": [_SOURCE], "detail": {**_shaped(2, True), **_shaped(3, True)}},
    ]
    for number in range(_NEAR_MISSES):
        rules.append(
            {
                "source": [_SOURCE],
                "detail-type": [_DETAIL_TYPE],
                "detail": _shaped(number % 5, False),
            }
        )
    while len(rules) < count:
        service = chooser.choice(_SERVICES)
        detail_type = chooser.choice(_ENTITIES) + chooser.choice(_VERBS)
        if service == "orders" and detail_type == _DETAIL_TYPE:
            continue
        shape = len(rules) % 5
        rule: dict[str, Any] = {
            "source": [f"com.shop.{service}"],
            "detail": _shaped(shape, chooser.random() < 0.5),
        }
        # Without a detail-type only another service keeps the rule from matching.
        if shape != 3 or service == "orders":
            rule["detail-type"] = [detail_type]
        rules.append(rule)
    return rules[:count]


def _check_rules(rules: list[dict[str, Any]]) -> None:
    """Fail early (clearly) if the rules do not match exactly `BUS_MATCHING` of a sample event."""
    compiled = [compile_pattern(rule) for rule in rules]
    for entry in (*_entries(3), *_entries(3, start=897)):
        event = {
            "version": "0",
            "id": "check",
            "detail-type": entry["detail_type"],
            "source": entry["source"],
            "account": "000000000000",
            "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": entry["detail"],
        }
        matching = [number for number, pattern in enumerate(compiled) if pattern.matches(event)]
        if matching != list(range(BUS_MATCHING)):
            raise BenchmarkError(f"bus rules {matching} match, expected the first {BUS_MATCHING}")


# -- one measurement ---------------------------------------------------------------------------
def _queue_names(count: int) -> list[str]:
    return [f"bench-{number:03d}" for number in range(count)]


def _timed(step: Callable[[Any], object], work: Sequence[Any]) -> float:
    gc.collect()
    started = time.perf_counter()
    for item in work:
        step(item)
    return time.perf_counter() - started


def _measure_once(
    case: Case, queues: int, durability: Durability, messages: int, directory: str | None
) -> dict[str, Any]:
    """One measurement on a new database; the publishing loop's rate and a check of the copies."""
    with tempfile.TemporaryDirectory(prefix="eventyard-bench-", dir=directory) as tmp:
        client = eventyard.connect(
            f"sqlite:///{os.path.join(tmp, 'fanout.db')}", durability=durability
        )
        try:
            seconds, expected = _run_case(client, case, queues, messages)
            held = {name: _held(client.get_queue(name)) for name in expected}
            wrong = {name: count for name, count in held.items() if count != expected[name]}
            if wrong:
                raise BenchmarkError(
                    f"{case} to {queues} queues ({durability}): queues hold {wrong}, expected "
                    f"{ {name: expected[name] for name in wrong} }"
                )
            delivered = [name for name, count in expected.items() if count]
            copy = client.get_queue(delivered[0]).receive(max_messages=1)[0]
            copy_bytes = len(copy.text.encode("utf-8"))
        finally:
            client.close()
    copies = sum(expected.values()) // (messages + _WARM_UP)
    return {
        "published_msgs_per_s": round(messages / seconds),
        "copies_per_s": round(messages * copies / seconds),
        "seconds": round(seconds, 3),
        "copies_per_message": copies,
        "copy_bytes": copy_bytes,
    }


def _held(queue: eventyard.Queue) -> int:
    stats = queue.stats()
    return stats.visible + stats.in_flight + stats.delayed


def _run_case(
    client: eventyard.Client, case: Case, queues: int, messages: int
) -> tuple[float, dict[str, int]]:
    """Set up (untimed), warm up (untimed), time the loop; returns (seconds, expected copies)."""
    total = messages + _WARM_UP
    if case == "bus":
        rules = bus_rules()
        bus = client.create_bus(_BUS)
        names = _queue_names(len(rules))
        for number, (name, pattern) in enumerate(zip(names, rules, strict=True)):
            queue = client.create_queue(name)
            bus.put_rule(f"rule-{number:03d}", pattern=pattern).add_target(queue)
        entries = _entries(total)
        events = [entries[i : i + BATCH] for i in range(0, total, BATCH)]
        bus.put_events(events[0][:_WARM_UP]).raise_for_errors()
        work: list[Any] = [events[0][_WARM_UP:], *events[1:]]
        seconds = _timed(lambda batch: bus.put_events(batch).raise_for_errors(), work)
        return seconds, {name: total if n < BUS_MATCHING else 0 for n, name in enumerate(names)}
    names = _queue_names(queues)
    handles = [client.create_queue(name) for name in names]
    work = batches(bodies(total))
    warm_up, work = work[0][:_WARM_UP], [work[0][_WARM_UP:], *work[1:]]
    if case == "baseline":

        def send(batch: list[str]) -> None:
            for queue in handles:
                queue.send_batch(batch).raise_for_errors()

        send(warm_up)
        seconds = _timed(send, work)
    else:
        topic = client.create_topic(_TOPIC)
        for queue in handles:
            topic.subscribe(queue, raw=case == "topic_raw")
        topic.publish_batch(warm_up).raise_for_errors()
        seconds = _timed(lambda batch: topic.publish_batch(batch).raise_for_errors(), work)
    return seconds, dict.fromkeys(names, total)


# -- orchestration -----------------------------------------------------------------------------
def _plan() -> list[tuple[Case, int]]:
    """Every (case, queues) of one run, baselines first at each N."""
    plan: list[tuple[Case, int]] = []
    for queues in QUEUE_COUNTS:
        plan += [("baseline", queues), ("topic", queues), ("topic_raw", queues)]
    plan += [("baseline", BUS_MATCHING), ("bus", BUS_MATCHING)]
    return plan


def _summary(taken: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "published_msgs_per_s": round(statistics.median(s["published_msgs_per_s"] for s in taken)),
        "copies_per_s": round(statistics.median(s["copies_per_s"] for s in taken)),
        "copies_per_message": taken[0]["copies_per_message"],
        "copy_bytes": taken[0]["copy_bytes"],
        "runs": taken,
    }


def run(
    messages: int, runs: int, durabilities: Sequence[Durability], directory: str | None
) -> dict[str, Any]:
    """Measure everything and return the results as one JSON-ready object."""
    _check_rules(bus_rules())
    machine = _machine(directory)
    samples: dict[tuple[Durability, Case, int], list[dict[str, Any]]] = {}
    for run_number in range(1, runs + 1):
        for durability in durabilities:
            for case, queues in _plan():
                sample = _measure_once(case, queues, durability, messages, directory)
                if case != "baseline":
                    baseline = samples[(durability, "baseline", queues)][-1]
                    sample["ratio_copies_baseline"] = _ratio(
                        sample["copies_per_s"], baseline["copies_per_s"]
                    )
                samples.setdefault((durability, case, queues), []).append(sample)
                ratio = sample.get("ratio_copies_baseline")
                _progress(
                    f"[run {run_number}/{runs}] {durability:<7} {LABELS[case]:<18} N={queues:<3}"
                    f"{sample['published_msgs_per_s']:>8,} published/s "
                    f"{sample['copies_per_s']:>9,} copies/s"
                    + ("" if ratio is None else f"  ratio {ratio:.2f}")
                    + f"  ({sample['seconds']:.1f} s)"
                )
    result: dict[str, Any] = {
        "benchmark": "fanout",
        "machine": machine,
        "parameters": {
            "messages": messages,
            "runs": runs,
            "batch": BATCH,
            "body_bytes": BODY_BYTES,
            "processes": 1,
            "queue_counts": list(QUEUE_COUNTS),
            "bus_rules": BUS_RULES,
            "bus_matching_rules": BUS_MATCHING,
            "warm_up_messages": _WARM_UP,
        },
        "targets": {f"ratio_topic_{TARGET_QUEUES}_baseline_min": TARGET_RATIO},
        "durability": {},
    }
    for durability in durabilities:
        baselines = {
            queues: _summary(samples[(durability, "baseline", queues)])
            for queues in (*QUEUE_COUNTS, BUS_MATCHING)
        }
        topics: dict[str, Any] = {}
        for queues in QUEUE_COUNTS:
            per_delivery = {}
            for case, key in (("topic", "envelope"), ("topic_raw", "raw")):
                entry = _summary(samples[(durability, case, queues)])
                entry["ratio_copies_baseline"] = _ratio(
                    entry["copies_per_s"], baselines[queues]["copies_per_s"]
                )
                per_delivery[key] = entry
            topics[str(queues)] = per_delivery
        bus = _summary(samples[(durability, "bus", BUS_MATCHING)])
        bus["ratio_copies_baseline"] = _ratio(
            bus["copies_per_s"], baselines[BUS_MATCHING]["copies_per_s"]
        )
        bus["rules"] = BUS_RULES
        target = topics[str(TARGET_QUEUES)]["envelope"]["ratio_copies_baseline"]
        result["durability"][durability] = {
            "synchronous": SYNCHRONOUS[durability],
            "baseline": {str(queues): entry for queues, entry in baselines.items()},
            "topic": topics,
            "bus": bus,
            "target_met": target is not None and target >= TARGET_RATIO,
        }
    machine["load_average_1m"].append(round(os.getloadavg()[0], 2))
    return result


def render(result: dict[str, Any]) -> str:
    """The human-readable report of a `run` result."""
    machine, parameters = result["machine"], result["parameters"]
    lines = [
        f"eventyard bench fanout: {parameters['messages']:,} published messages of "
        f"~{parameters['body_bytes']} bytes per measurement, batches of {parameters['batch']}, "
        f"1 publisher process, a new database each time; median of {parameters['runs']} run(s)",
        f"machine: {machine['cpu_count']} CPUs, {machine['platform']}, Python {machine['python']},"
        f" SQLite {machine['sqlite']}; one fsync ≈ {machine['fsync_ms']} ms here; load average "
        f"{machine['load_average_1m'][0]} before, {machine['load_average_1m'][1]} after;"
        f" eventyard {machine['eventyard']} ({machine['eventyard_revision'] or 'not a checkout'})",
    ]
    header = (
        f"  {'case':<26}{'N':>3}{'published/s':>13}{'copies/s':>11}{'copy B':>8}"
        f"{'ratio':>7}   runs (copies/s)"
    )

    def row(label: str, queues: int, entry: dict[str, Any]) -> str:
        ratio = entry.get("ratio_copies_baseline")
        each = " / ".join(f"{s['copies_per_s']:,}" for s in entry["runs"])
        return (
            f"  {label:<26}{queues:>3}{entry['published_msgs_per_s']:>13,}"
            f"{entry['copies_per_s']:>11,}{entry['copy_bytes']:>8}"
            f"{'' if ratio is None else f'{ratio:.2f}':>7}   {each}"
        )

    for durability, entry in result["durability"].items():
        lines += ["", f"durability={durability} (synchronous={entry['synchronous']})", header]
        for queues in parameters["queue_counts"]:
            lines.append(row("send_batch to each queue", queues, entry["baseline"][str(queues)]))
            lines.append(
                row("publish_batch, envelope", queues, entry["topic"][str(queues)]["envelope"])
            )
            lines.append(row("publish_batch, raw", queues, entry["topic"][str(queues)]["raw"]))
        matching = parameters["bus_matching_rules"]
        lines.append(row("send_batch to each queue", matching, entry["baseline"][str(matching)]))
        lines.append(row(f"put_events, {parameters['bus_rules']} rules", matching, entry["bus"]))
        ratio = entry["topic"][str(TARGET_QUEUES)]["envelope"]["ratio_copies_baseline"]
        lines.append(
            f"  fan-out to {TARGET_QUEUES} queues / direct sends: {ratio:.2f} "
            f"({'meets' if entry['target_met'] else 'misses'} the target of ≥ {TARGET_RATIO:.2f})"
        )
    return "\n".join(lines)


def main(
    messages: int = 20_000,
    runs: int = 3,
    durability: str = "both",
    as_json: bool = False,
    *,
    directory: str | None = None,
) -> int:
    """Run the benchmark and print it (text or one JSON object); the exit code."""
    if durability not in (*DURABILITIES, "both"):
        print(f"durability must be full, process or both, got {durability!r}", file=sys.stderr)
        return 2
    if messages < 1 or runs < 1:
        print("messages and runs must be at least 1", file=sys.stderr)
        return 2
    durabilities = DURABILITIES if durability == "both" else (cast(Durability, durability),)
    try:
        result = run(messages, runs, durabilities, directory)
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if as_json else render(result))
    return 0
