"""Fan-out throughput: topic publish and bus put_events against sending the copies directly.

The same benchmark as ``eventyard bench fanout``; run it from the repository root::

    python bench/fanout.py                         # 20k messages, 3 runs, both durabilities
    python bench/fanout.py --messages 5000 --runs 1 --durability process
    python bench/fanout.py --json > fanout-bench.json
"""

import os
import sys

# bench/queue.py is named like the standard library's `queue`, which eventyard's benchmark
# harness imports: drop this script's directory from the path before anything imports it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]


def _main() -> int:
    import argparse

    from eventyard.benchmarks.fanout import main

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--messages", type=int, default=20_000, help="published per measurement; default 20000"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per case (median); default 3")
    parser.add_argument("--durability", choices=("full", "process", "both"), default="both")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", default=None, help="where the database files go (default: TMPDIR)")
    args = parser.parse_args()
    return main(
        messages=args.messages,
        runs=args.runs,
        durability=args.durability,
        as_json=args.json,
        directory=args.dir,
    )


if __name__ == "__main__":
    sys.exit(_main())
