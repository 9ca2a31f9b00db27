"""Prometheus metrics: what the database holds, read at each scrape.

Every figure comes from the database, so any process serving ``/metrics``
(``eventyard run`` or ``eventyard serve``) reports the work of all processes:
queue depths and ages from the queues' stats, counters from the per-queue
counters, function invocations, errors and durations from the function
statistics (cumulative, never decreasing). Internal queues (``eventyard:``)
are left out. Nothing is kept in memory between scrapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from eventyard.broker.client import Client
from eventyard.errors import QueueDoesNotExist

INTERNAL_PREFIX: Final = "eventyard:"
COUNTERS: Final = ("sent", "received", "deleted", "dead_lettered", "purged")

__all__ = ["CONTENT_TYPE_LATEST", "StoreCollector", "render"]


class StoreCollector(Collector):
    """Collects the database's figures at each scrape."""

    def __init__(self, client: Callable[[], Client]) -> None:
        self._client = client

    def collect(self) -> Iterator[Metric]:
        client = self._client()
        yield from _queue_metrics(client)
        yield from _function_metrics(client)


def _queue_metrics(client: Client) -> Iterator[Metric]:
    labels = ["queue"]
    gauges = {
        name: GaugeMetricFamily(f"eventyard_queue_{name}_messages", text, labels=labels)
        for name, text in (
            ("visible", "Messages ready to be received."),
            ("in_flight", "Messages received and not yet deleted."),
            ("delayed", "Messages not visible yet because of a delay."),
        )
    }
    oldest = GaugeMetricFamily(
        "eventyard_queue_oldest_message_age_seconds",
        "Age of the oldest message in the queue (0 when empty).",
        labels=labels,
    )
    dlq_depth = GaugeMetricFamily(
        "eventyard_queue_dead_letter_messages",
        "Messages in the queue's dead-letter queue.",
        labels=labels,
    )
    counters = {
        name: CounterMetricFamily(
            f"eventyard_queue_{name}_messages", f"Messages {name.replace('_', '-')}.", labels=labels
        )
        for name in COUNTERS
    }
    depths: dict[str, int] = {}
    dead_letters: dict[str, str] = {}
    for name in client.list_queues():
        if name.startswith(INTERNAL_PREFIX):
            continue
        try:
            queue = client.get_queue(name)
            stats = queue.stats()
            tally = queue.counters()
        except QueueDoesNotExist:  # deleted while we looked
            continue
        depths[name] = stats.total
        if queue.attributes.dead_letter_queue:
            dead_letters[name] = queue.attributes.dead_letter_queue
        gauges["visible"].add_metric([name], stats.visible)
        gauges["in_flight"].add_metric([name], stats.in_flight)
        gauges["delayed"].add_metric([name], stats.delayed)
        oldest.add_metric([name], stats.oldest_age_seconds or 0.0)
        for counter, family in counters.items():
            family.add_metric([name], getattr(tally, counter))
    for name, dead_letter in dead_letters.items():
        if dead_letter in depths:
            dlq_depth.add_metric([name], depths[dead_letter])
    yield from gauges.values()
    yield oldest
    yield dlq_depth
    yield from counters.values()


def _function_metrics(client: Client) -> Iterator[Metric]:
    labels = ["function"]
    invocations = CounterMetricFamily(
        "eventyard_function_invocations", "Invocations of the function.", labels=labels
    )
    errors = CounterMetricFamily(
        "eventyard_function_errors",
        "Invocations that failed whole (an exception, a crash, a timeout).",
        labels=labels,
    )
    messages = CounterMetricFamily(
        "eventyard_function_messages", "Messages handed to the function.", labels=labels
    )
    durations = HistogramMetricFamily(
        "eventyard_function_duration_seconds",
        "How long invocations took.",
        labels=labels,
    )
    for name, stats in sorted(client.function_stats().items()):
        invocations.add_metric([name], stats.total_invocations)
        errors.add_metric([name], stats.total_errors)
        messages.add_metric([name], stats.total_messages)
        durations.add_metric(
            [name],
            [
                ("+Inf" if bound == float("inf") else _seconds(bound), count)
                for bound, count in stats.cumulative_buckets()
            ],
            sum_value=stats.total_duration_ms / 1000,
        )
    yield invocations
    yield errors
    yield messages
    yield durations


def _seconds(milliseconds: float) -> str:
    return repr(milliseconds / 1000)


def render(client: Callable[[], Client]) -> tuple[bytes, str]:
    """The exposition text of one scrape, and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(client))
    return generate_latest(registry), CONTENT_TYPE_LATEST
