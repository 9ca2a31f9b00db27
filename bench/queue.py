"""Queue throughput and wake-up latency: eventyard vs raw sqlite3 vs huey's SqliteHuey.

The same benchmark as ``eventyard bench queue``; run it from the repository root::

    python bench/queue.py                          # 100k messages, 3 runs, both durabilities
    python bench/queue.py --messages 20000 --runs 1 --durability process --no-peers
    python bench/queue.py --json > queue-bench.json
    python bench/queue.py --db postgresql://...    # on PostgreSQL: see bench/postgres.py
"""

import os
import sys

# This file is named like the standard library's `queue`, which multiprocessing imports:
# drop the script's own directory from the path before anything imports it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]


def _main() -> int:
    import argparse

    from eventyard.benchmarks.queue import main

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=100_000, help="default: 100000")
    parser.add_argument("--runs", type=int, default=3, help="runs per system (median); default 3")
    parser.add_argument("--durability", choices=("full", "process", "both"), default="both")
    parser.add_argument("--no-peers", action="store_true", help="skip huey's SqliteHuey")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--latency-sends", type=int, default=200, help="single sends timed for wake-up latency"
    )
    parser.add_argument("--dir", default=None, help="where the database files go (default: TMPDIR)")
    parser.add_argument(
        "--db",
        default=None,
        help="a postgresql:// URL: the PostgreSQL benchmark's queue and latency parts on that "
        "server (vs raw psycopg and PGQueuer, 1/2/4 consumers; --no-peers skips PGQueuer)",
    )
    args = parser.parse_args()
    if args.db is not None:
        from eventyard.benchmarks.postgres import main as postgres_main

        return postgres_main(
            db=args.db,
            messages=args.messages,
            runs=args.runs,
            durability=args.durability,
            peers=not args.no_peers,
            as_json=args.json,
            parts=("queue", "latency"),
            latency_sends=args.latency_sends,
            directory=args.dir,
        )
    return main(
        messages=args.messages,
        runs=args.runs,
        durability=args.durability,
        peers=not args.no_peers,
        as_json=args.json,
        latency_sends=args.latency_sends,
        directory=args.dir,
    )


if __name__ == "__main__":
    sys.exit(_main())
