"""Defaults and limits of SQS-style queues, in one place.

The numbers follow Amazon SQS as documented in 2026 (see
``docs/semantics.md``); where eventyard differs on purpose the constant's
comment says so. Seconds and bytes are spelled out in the names.
"""

from __future__ import annotations

from typing import Final

QUEUE_NAME_MAX_LENGTH: Final = 80
FIFO_SUFFIX: Final = ".fifo"

VISIBILITY_TIMEOUT_DEFAULT_SECONDS: Final = 30
VISIBILITY_TIMEOUT_MAX_SECONDS: Final = 43_200  # 12 hours, also the cap since receipt

DELAY_DEFAULT_SECONDS: Final = 0
DELAY_MAX_SECONDS: Final = 900

RETENTION_DEFAULT_SECONDS: Final = 345_600  # 4 days
RETENTION_MIN_SECONDS: Final = 60
RETENTION_MAX_SECONDS: Final = 1_209_600  # 14 days

MESSAGE_SIZE_DEFAULT_BYTES: Final = 1_048_576  # 1 MiB, the current AWS default
MESSAGE_SIZE_MIN_BYTES: Final = 1_024
MESSAGE_SIZE_MAX_BYTES: Final = 1_048_576

RECEIVE_WAIT_MAX_SECONDS: Final = 20
RECEIVE_MAX_MESSAGES_AWS: Final = 10
# Ours: the native API may claim more per call (event-source mappings take
# up to 10,000 per batch); the AWS-compatible endpoint keeps 10.
RECEIVE_MAX_MESSAGES: Final = 10_000

MAX_RECEIVE_COUNT_MIN: Final = 1
MAX_RECEIVE_COUNT_MAX: Final = 1_000
REDRIVE_ALLOW_MAX_SOURCE_QUEUES: Final = 10

BATCH_MAX_ENTRIES: Final = 10
BATCH_ENTRY_ID_MAX_LENGTH: Final = 80
BATCH_MAX_TOTAL_BYTES: Final = 1_048_576

MESSAGE_ATTRIBUTES_MAX: Final = 10
ATTRIBUTE_NAME_MAX_LENGTH: Final = 256
ATTRIBUTE_TYPE_MAX_LENGTH: Final = 256

FIFO_GROUP_ID_MAX_LENGTH: Final = 128
FIFO_DEDUPLICATION_ID_MAX_LENGTH: Final = 128
DEDUPLICATION_WINDOW_SECONDS: Final = 300  # 5 minutes

PURGE_INTERVAL_SECONDS: Final = 60
RECREATE_AFTER_DELETE_SECONDS: Final = 60

MOVE_TASK_MAX_MESSAGES_PER_SECOND: Final = 500

# -- topics (SNS) -------------------------------------------------------------
TOPIC_NAME_MAX_LENGTH: Final = 256
TOPIC_MESSAGE_MAX_BYTES: Final = 262_144  # 256 KiB, message + attributes
TOPIC_BATCH_MAX_TOTAL_BYTES: Final = 262_144
SUBJECT_MAX_LENGTH: Final = 99  # "less than 100 characters"
WEBHOOK_RETRIES_DEFAULT: Final = 3
WEBHOOK_RETRIES_MAX: Final = 100
WEBHOOK_RETRY_DELAY_DEFAULT_SECONDS: Final = 20
WEBHOOK_RETRY_DELAY_MAX_SECONDS: Final = 3_600

# -- event buses (EventBridge) ---------------------------------------------------
BUS_NAME_MAX_LENGTH: Final = 256
RULE_NAME_MAX_LENGTH: Final = 64
TARGET_ID_MAX_LENGTH: Final = 64
RULE_TARGETS_MAX: Final = 5
RULE_DESCRIPTION_MAX_LENGTH: Final = 512
PUT_EVENTS_MAX_ENTRIES: Final = 10
EVENT_ENTRY_MAX_BYTES: Final = 1_048_576  # 1 MiB per entry
DETAIL_TYPE_MAX_LENGTH: Final = 128
SOURCE_MAX_LENGTH: Final = 256
TARGET_RETRY_ATTEMPTS_DEFAULT: Final = 185
TARGET_RETRY_ATTEMPTS_MAX: Final = 185
TARGET_EVENT_AGE_DEFAULT_SECONDS: Final = 86_400
TARGET_EVENT_AGE_MIN_SECONDS: Final = 60
TARGET_EVENT_AGE_MAX_SECONDS: Final = 86_400
ARCHIVE_RETENTION_MAX_DAYS: Final = 3_650
BUS_HOPS_MAX: Final = 1  # an event forwarded from another bus is not forwarded again
