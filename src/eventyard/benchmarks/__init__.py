"""Benchmarks of eventyard against the raw driver and the peers a user would pick instead.

Run them with ``eventyard bench queue`` (or ``python bench/queue.py``); the
logic lives here so that the CLI, the script and the smoke test share it.
"""
