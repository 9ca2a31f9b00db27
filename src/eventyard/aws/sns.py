"""SNS operations over the AWS query protocol: handlers on the Python API.

Importing this module registers them (the endpoint imports it). They live in
`sns_topics`, `sns_subscriptions` and `sns_publish`; `sns_common` holds what
they share, notably the translation of eventyard's errors into SNS's codes.
"""

from eventyard.aws import sns_publish, sns_subscriptions, sns_topics

__all__ = ["sns_publish", "sns_subscriptions", "sns_topics"]
