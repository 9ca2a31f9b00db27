"""boto3 through the AWS-compatible endpoint vs the Python API, on one SQLite file.

The same benchmark as ``eventyard bench aws``; run it from the repository root::

    python bench/aws_api.py                        # 20k messages, 3 runs
    python bench/aws_api.py --messages 2000 --runs 1 --json
"""

import sys

from eventyard.benchmarks.aws_api import main

if __name__ == "__main__":
    sys.exit(main())
