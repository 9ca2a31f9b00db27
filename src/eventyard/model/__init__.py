"""The model layer: values, limits and validation of queues and messages (no I/O)."""
