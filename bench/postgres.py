"""PostgreSQL: eventyard vs raw psycopg vs PGQueuer, 1/2/4 consumer processes; latency; churn.

The same benchmark as ``eventyard bench postgres``; run it from the repository root::

    python bench/postgres.py                       # throwaway server (pgserver), 50k messages
    python bench/postgres.py --db postgresql://user:pw@host/db --runs 5
    python bench/postgres.py --churn 1000000       # also 1M messages through one queue
    python bench/postgres.py --json > postgres-bench.json
"""

import os
import sys

# bench/queue.py is named like the standard library's `queue`, which multiprocessing imports:
# drop this script's directory from the path before anything imports it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]


def _main() -> int:
    import argparse

    from eventyard.benchmarks.postgres import DEFAULT_MESSAGES, PARTS, main

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--db", default=None, help="postgresql:// URL (default: a throwaway pgserver server)"
    )
    parser.add_argument(
        "--messages", type=int, default=DEFAULT_MESSAGES, help="per drain; default 50000"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per case (median); default 3")
    parser.add_argument("--consumers", default="1,2,4", help="consumer process counts")
    parser.add_argument("--durability", choices=("full", "process", "both"), default="full")
    parser.add_argument("--no-peers", action="store_true", help="skip PGQueuer")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"which parts to run, of {','.join(PARTS)} (default: all)",
    )
    parser.add_argument(
        "--latency-sends", type=int, default=200, help="single sends timed for wake-up latency"
    )
    parser.add_argument(
        "--churn", type=int, default=0, help="also push this many messages through one queue"
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="drain right after the fill, before any ANALYZE (autovacuum's, a minute later)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", default=None, help="where temporary files go (default: TMPDIR)")
    args = parser.parse_args()
    return main(
        db=args.db,
        messages=args.messages,
        runs=args.runs,
        consumers=args.consumers,
        durability=args.durability,
        peers=not args.no_peers,
        as_json=args.json,
        parts=[part for part in args.parts.split(",") if part],
        latency_sends=args.latency_sends,
        churn=args.churn,
        directory=args.dir,
        analyze=not args.no_analyze,
    )


if __name__ == "__main__":
    sys.exit(_main())
