"""The broker layer: queues (and later topics and buses) on top of a store."""
