"""Function statistics: the duration histogram's fixed buckets and the figures read from it.

Durations go into fixed buckets (Prometheus-like, 5 ms to 60 s, plus one for
anything longer), so histograms of many minutes and many processes merge by
adding counts. Quantiles are estimated from a merged histogram the way
Prometheus's ``histogram_quantile`` does: linearly within the bucket that
holds the rank.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

#: Upper bounds (inclusive, milliseconds) of the duration buckets; a last bucket holds the rest.
DURATION_BUCKET_BOUNDS_MS: Final[tuple[float, ...]] = (
    5.0,
    10.0,
    25.0,
    50.0,
    100.0,
    250.0,
    500.0,
    1_000.0,
    2_500.0,
    5_000.0,
    10_000.0,
    30_000.0,
    60_000.0,
)
#: Buckets in a histogram: one per bound, plus the one above the last bound (``+Inf``).
DURATION_BUCKETS: Final = len(DURATION_BUCKET_BOUNDS_MS) + 1


def bucket_index(duration_ms: float) -> int:
    """The bucket a duration falls in (a duration equal to a bound is in that bound's bucket)."""
    return bisect_left(DURATION_BUCKET_BOUNDS_MS, duration_ms)


def quantile(buckets: Sequence[int], q: float) -> float | None:
    """The ``q``-quantile (0-1) of a histogram in milliseconds; None if it is empty.

    Linear within the bucket that holds the rank; a rank in the last (unbounded)
    bucket gives the highest finite bound, as Prometheus does.
    """
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    below = 0
    for index, count in enumerate(buckets):
        if count and below + count >= rank:
            if index >= len(DURATION_BUCKET_BOUNDS_MS):
                return DURATION_BUCKET_BOUNDS_MS[-1]
            lower = 0.0 if index == 0 else DURATION_BUCKET_BOUNDS_MS[index - 1]
            upper = DURATION_BUCKET_BOUNDS_MS[index]
            return lower + (upper - lower) * (rank - below) / count
        below += count
    return DURATION_BUCKET_BOUNDS_MS[-1]


@dataclass(frozen=True, slots=True)
class FunctionStats:
    """What one function did: over a recent window, and since the database was created.

    The window figures add up the per-minute records of the last
    ``window_seconds`` (rounded out to whole minutes); the ``total_*`` figures
    only ever grow (Prometheus counters). ``total_buckets`` holds one count per
    bucket of `DURATION_BUCKET_BOUNDS_MS` plus the last one (``+Inf``), not
    cumulated; `cumulative_buckets` gives Prometheus's ``le`` form.
    """

    function: str
    window_seconds: int
    invocations: int
    errors: int
    messages: int
    p50_ms: float | None
    p99_ms: float | None
    total_invocations: int
    total_errors: int
    total_messages: int
    total_duration_ms: float
    total_buckets: tuple[int, ...]
    bucket_bounds_ms: tuple[float, ...] = DURATION_BUCKET_BOUNDS_MS

    def cumulative_buckets(self) -> list[tuple[float, int]]:
        """``(upper bound in ms, count of durations ≤ it)``; the last bound is ``inf``."""
        result: list[tuple[float, int]] = []
        running = 0
        for bound, count in zip(
            (*self.bucket_bounds_ms, float("inf")), self.total_buckets, strict=True
        ):
            running += count
            result.append((bound, running))
        return result
