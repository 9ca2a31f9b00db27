"""The delivery layer: pushing messages out of eventyard to endpoints it does not own.

`eventyard.delivery.webhook` makes one HTTP(S) delivery attempt and reports what
happened. Retries, backoff, scheduling and dead-letter queues belong to the
dispatcher that calls it, not to this package.
"""
