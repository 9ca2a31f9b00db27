"""boto3 through the AWS-compatible endpoint vs the Python API, on one SQLite file.

The same benchmark as ``eventyard bench aws``; run it from the repository root::

    python bench/aws_api.py                        # 20k messages, 3 runs
    python bench/aws_api.py --messages 2000 --runs 1 --json
"""

import os
import sys

# bench/queue.py is named like the standard library's `queue` (which urllib3 imports):
# drop this script's directory from the path before anything imports it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]


def _main() -> int:
    from eventyard.benchmarks.aws_api import main

    return main()


if __name__ == "__main__":
    sys.exit(_main())
