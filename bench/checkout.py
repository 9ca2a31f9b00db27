"""The checkout example under HTTP load, against the synchronous "fragile way".

The same benchmark as ``eventyard bench checkout``; run it from the repository root::

    python bench/checkout.py                               # 16 clients, 30 s, 20 ms labels, 1 run
    python bench/checkout.py --runs 3 --plot docs/checkout-bench.png
    python bench/checkout.py --clients 4 --seconds 5 --print-ms 0 --json
"""

import os
import sys

# bench/queue.py is named like the standard library's `queue`, which eventyard's benchmark
# harness imports: drop this script's directory from the path before anything imports it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]


def _main() -> int:
    import argparse

    from eventyard.benchmarks.checkout import main

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients; default 16")
    parser.add_argument("--seconds", type=float, default=30.0, help="load time; default 30")
    parser.add_argument("--print-ms", type=int, default=20, help="per label; default 20")
    parser.add_argument("--runs", type=int, default=1, help="runs per system (median); default 1")
    parser.add_argument("--plot", default=None, help="draw the run into this PNG (matplotlib)")
    parser.add_argument(
        "--drain-timeout", type=float, default=900.0, help="wait for the label backlog; default 900"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--dir", default=None, help="where the database files go (default: TMPDIR)")
    args = parser.parse_args()
    return main(
        clients=args.clients,
        seconds=args.seconds,
        print_ms=args.print_ms,
        runs=args.runs,
        plot_file=args.plot,
        as_json=args.json,
        drain_timeout=args.drain_timeout,
        directory=args.dir,
    )


if __name__ == "__main__":
    sys.exit(_main())
