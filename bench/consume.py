"""Queue consumer functions: a no-op function draining a queue vs the raw receive/delete loop.

The same benchmark as ``eventyard bench consume``; run it from the repository root::

    python bench/consume.py                        # 100k messages, 3 runs, both durabilities
    python bench/consume.py --messages 20000 --runs 1 --durability process
    python bench/consume.py --json > consume-bench.json
    python bench/consume.py --db postgresql://...  # on PostgreSQL, 1/2/4 workers: see below
"""

import os
import sys

# bench/queue.py is named like the standard library's `queue`, which eventyard's benchmark
# harness imports: drop this script's directory from the path before anything imports it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]


def _main() -> int:
    import argparse

    from eventyard.benchmarks.consume import main

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--messages", type=int, default=100_000, help="drained per measurement; default 100000"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per case (median); default 3")
    parser.add_argument("--durability", choices=("full", "process", "both"), default="both")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--latency-sends", type=int, default=200, help="single sends timed for send → handler"
    )
    parser.add_argument("--dir", default=None, help="where the database files go (default: TMPDIR)")
    parser.add_argument(
        "--db",
        default=None,
        help="a postgresql:// URL: the no-op function (batch 10, 1/2/4 workers) and the "
        "receive loop (1/2/4 processes) on that server, vs raw psycopg and PGQueuer",
    )
    args = parser.parse_args()
    if args.db is not None:
        from eventyard.benchmarks.postgres import main as postgres_main

        return postgres_main(
            db=args.db,
            messages=args.messages,
            runs=args.runs,
            durability=args.durability,
            as_json=args.json,
            parts=("queue", "function"),
            directory=args.dir,
        )
    return main(
        messages=args.messages,
        runs=args.runs,
        durability=args.durability,
        as_json=args.json,
        latency_sends=args.latency_sends,
        directory=args.dir,
    )


if __name__ == "__main__":
    sys.exit(_main())
