"""Function statistics: per-minute rows and an all-time row per function.

A finished batch (or async invocation) adds itself with ONE upsert statement
of two rows: the row of its minute and the function's all-time row
(``minute_ms = -1``), which is never pruned, so its counts only grow. The
duration histogram is one column per fixed bucket (`eventyard.model.stats`),
so merging minutes or processes is adding columns. Minute rows older than
`KEEP_MINUTES_MS` are pruned at most once a minute per store, not on every write.
"""

from __future__ import annotations

import functools
from typing import Final

from eventyard.model.stats import DURATION_BUCKETS, bucket_index
from eventyard.store.records import FunctionStatsRecord, InvocationFigures
from eventyard.store.sql.dialect import Connection, Dialect

#: The minute of the all-time row.
TOTAL_MINUTE: Final = -1
#: Per-minute rows are kept this long.
KEEP_MINUTES_MS: Final = 3_600_000
MINUTE_MS: Final = 60_000

_BUCKET_COLUMNS: Final = tuple(f"b{i}" for i in range(DURATION_BUCKETS))
_COLUMNS: Final = ("invocations", "errors", "messages", "duration_ms", *_BUCKET_COLUMNS)


@functools.cache
def _upsert(dialect: Dialect) -> str:
    """One statement, two rows: the minute's and the all-time one (each connection's
    own shard of them on PostgreSQL; see `counters`)."""
    return dialect.adding_upsert("eventyard_function_stats", ("function", "minute_ms"), _COLUMNS, 2)


_SUMS: Final = ", ".join(f"sum({c})" for c in _COLUMNS)


def minute_of(now_ms: int) -> int:
    return now_ms - now_ms % MINUTE_MS


def record(
    conn: Connection,
    function: str,
    now_ms: int,
    invocations: int,
    errors: int,
    messages: int,
    durations_ms: list[float],
) -> None:
    buckets = [0] * DURATION_BUCKETS
    for duration in durations_ms:
        buckets[bucket_index(duration)] += 1
    figures = (invocations, errors, messages, float(sum(durations_ms)), *buckets)
    conn.execute(
        _upsert(conn.dialect),
        (function, minute_of(now_ms), *figures, function, TOTAL_MINUTE, *figures),
    )


def prune(conn: Connection, now_ms: int) -> None:
    conn.execute(
        "DELETE FROM eventyard_function_stats WHERE minute_ms >= 0 AND minute_ms < ?",
        (minute_of(now_ms) - KEEP_MINUTES_MS,),
    )


def read(conn: Connection, since_ms: int) -> list[FunctionStatsRecord]:
    """Each function's figures from the minute holding ``since_ms`` on, and its totals."""
    windows = {
        row[0]: _figures(row[1:])
        for row in conn.execute(
            f"SELECT function, {_SUMS} FROM eventyard_function_stats WHERE minute_ms >= ?"
            " GROUP BY function",
            (minute_of(since_ms),),
        ).fetchall()
    }
    empty = InvocationFigures(0, 0, 0, 0.0, (0,) * DURATION_BUCKETS)
    return [
        FunctionStatsRecord(row[0], windows.get(row[0], empty), _figures(row[1:]))
        for row in conn.execute(
            f"SELECT function, {_SUMS} FROM eventyard_function_stats"
            " WHERE minute_ms = ? GROUP BY function ORDER BY function",
            (TOTAL_MINUTE,),
        ).fetchall()
    ]


def _figures(row: tuple[object, ...]) -> InvocationFigures:
    invocations, errors, messages, duration, *buckets = row
    return InvocationFigures(
        int(invocations),  # type: ignore[call-overload]
        int(errors),  # type: ignore[call-overload]
        int(messages),  # type: ignore[call-overload]
        float(duration),  # type: ignore[arg-type]
        tuple(int(b) for b in buckets),  # type: ignore[call-overload]
    )
