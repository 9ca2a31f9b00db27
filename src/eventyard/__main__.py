"""``python -m eventyard`` is the ``eventyard`` command."""

from eventyard.cli import main

main()
