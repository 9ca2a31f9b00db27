"""The one exception tree of eventyard.

Every error the library raises on purpose is an `EventyardError`. The names
follow the AWS error codes where one exists (``QueueDoesNotExist``,
``ReceiptHandleIsInvalid`` ...) so that code written against SQS reads the
same. Each message says which field was wrong, the value given and the limit.
It holds no I/O and imports nothing of eventyard.
"""

from __future__ import annotations


class EventyardError(Exception):
    """Base of every error eventyard raises on purpose."""

    #: The AWS-style error code (used by the AWS-compatible endpoint).
    code: str = "InternalError"
    #: Whether retrying the same call later can succeed.
    retryable: bool = False


# -- bad input ---------------------------------------------------------------


class InvalidParameterValue(EventyardError, ValueError):
    """A parameter is outside its allowed range or format."""

    code = "InvalidParameterValue"


class MissingParameter(InvalidParameterValue):
    """A parameter that the call needs was not given."""

    code = "MissingParameter"


class InvalidAttributeName(InvalidParameterValue):
    """A message attribute name breaks the naming rules."""

    code = "InvalidAttributeName"


class InvalidAttributeValue(InvalidParameterValue):
    """A message attribute value is empty or does not fit its data type."""

    code = "InvalidAttributeValue"


class InvalidMessageContents(InvalidParameterValue):
    """A message body holds characters outside the allowed set."""

    code = "InvalidMessageContents"


class MessageTooLong(InvalidParameterValue):
    """A message (body plus attributes) is larger than the queue allows."""

    code = "MessageTooLong"


class TooManyEntriesInBatch(InvalidParameterValue):
    """A batch holds more entries than allowed."""

    code = "TooManyEntriesInBatchRequest"


class EmptyBatchRequest(InvalidParameterValue):
    """A batch holds no entries."""

    code = "EmptyBatchRequest"


class BatchEntryIdsNotDistinct(InvalidParameterValue):
    """Two entries of one batch share an id."""

    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(InvalidParameterValue):
    """A batch entry id is too long or uses characters outside [A-Za-z0-9_-]."""

    code = "InvalidBatchEntryId"


class BatchRequestTooLong(InvalidParameterValue):
    """The entries of one batch add up to more bytes than allowed."""

    code = "BatchRequestTooLong"


class ReceiptHandleIsInvalid(InvalidParameterValue):
    """A receipt handle is malformed, from another queue, or stale."""

    code = "ReceiptHandleIsInvalid"


class InvalidEventPattern(InvalidParameterValue):
    """An EventBridge event pattern is malformed (raised when it is compiled)."""

    code = "InvalidEventPattern"


class InvalidFilterPolicy(InvalidParameterValue):
    """An SNS filter policy is malformed or over a limit."""

    code = "InvalidFilterPolicy"


# -- state conflicts ---------------------------------------------------------


class QueueDoesNotExist(EventyardError, LookupError):
    """The named queue does not exist (or was deleted)."""

    code = "AWS.SimpleQueueService.NonExistentQueue"


class QueueAlreadyExists(EventyardError):
    """A queue of that name exists with other attributes."""

    code = "QueueAlreadyExists"


class QueueDeletedRecently(EventyardError):
    """A queue of that name was deleted less than 60 seconds ago."""

    code = "AWS.SimpleQueueService.QueueDeletedRecently"
    retryable = True


class ResourceInUse(EventyardError):
    """The resource is used by others (named in the message) and cannot be deleted."""

    code = "ResourceInUse"


class QueueInUse(ResourceInUse):
    """The queue is a dead-letter queue, or subscribed to a topic, and cannot be deleted."""


class PurgeQueueInProgress(EventyardError):
    """The queue was purged less than 60 seconds ago."""

    code = "AWS.SimpleQueueService.PurgeQueueInProgress"
    retryable = True


class MessageNotInflight(EventyardError):
    """The message is not in flight, so its visibility cannot be changed."""

    code = "AWS.SimpleQueueService.MessageNotInflight"


class RedriveNotAllowed(InvalidParameterValue):
    """The dead-letter queue's redrive allow policy refuses this source queue."""


class MoveTaskAlreadyRunning(EventyardError):
    """A redrive (message move) task is already running for this queue."""

    code = "AWS.SimpleQueueService.UnsupportedOperation"
    retryable = True


class MoveTaskNotFound(EventyardError, LookupError):
    """No message move task has that handle."""

    code = "ResourceNotFoundException"


class MessageNotFound(EventyardError, LookupError):
    """No message of that id is in the queue (deleted, expired, moved, or never there)."""

    code = "MessageNotFound"


# -- the storage layer -------------------------------------------------------


class StoreError(EventyardError):
    """The database failed in a way the caller cannot fix by changing input."""

    code = "InternalError"


class StoreBusy(StoreError):
    """The database stayed locked by other writers for longer than the busy timeout."""

    code = "ServiceUnavailable"
    retryable = True


class StoreUnavailable(StoreError):
    """The database server could not be reached, or the connection broke during the call.

    Whether a write whose commit was cut off took effect is unknown: a retried send
    may store the message twice (use FIFO deduplication or idempotent consumers where
    that matters); a retried receive, delete or visibility change is safe.
    """

    code = "ServiceUnavailable"
    retryable = True


class SchemaTooNew(StoreError):
    """The database was written by a newer eventyard whose schema this one does not know."""


class UnsupportedDatabaseUrl(InvalidParameterValue):
    """The database URL names a scheme eventyard does not support."""


# -- topics and buses ----------------------------------------------------------


class TopicDoesNotExist(EventyardError, LookupError):
    """The named topic does not exist (or was deleted)."""

    code = "NotFound"


class TopicAlreadyExists(EventyardError):
    """A topic of that name exists with other attributes."""

    code = "InvalidParameter"


class SubscriptionDoesNotExist(EventyardError, LookupError):
    """No subscription has that id or ARN."""

    code = "NotFound"


class SubscriptionAlreadyExists(EventyardError):
    """The endpoint is subscribed to the topic already, with other attributes."""

    code = "InvalidParameter"


class ResourceNotFound(EventyardError, LookupError):
    """A bus, rule, target, archive or replay of that name does not exist."""

    code = "ResourceNotFoundException"


class BusDoesNotExist(ResourceNotFound):
    """The named event bus does not exist."""


class RuleDoesNotExist(ResourceNotFound):
    """The named rule does not exist on that bus."""


class ArchiveDoesNotExist(ResourceNotFound):
    """The named archive does not exist."""


class ReplayDoesNotExist(ResourceNotFound):
    """The named replay does not exist."""


class ResourceAlreadyExists(EventyardError):
    """An archive or replay of that name exists already."""

    code = "ResourceAlreadyExistsException"


class LimitExceeded(InvalidParameterValue):
    """A count limit would be exceeded (e.g. a sixth target on a rule)."""

    code = "LimitExceededException"


# -- idempotency ----------------------------------------------------------------


class IdempotencyError(EventyardError):
    """Base of the idempotency errors; ``key`` is the stored key (``namespace:key``)."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class IdempotencyKeyConflict(IdempotencyError):
    """The key was used, and is still recorded, with a different payload."""

    code = "IdempotencyKeyConflict"


class IdempotencyInProgress(IdempotencyError):
    """Another run holds the key; retry after ``retry_after_seconds``."""

    code = "IdempotencyInProgress"
    retryable = True

    def __init__(
        self, message: str, *, key: str | None = None, retry_after_seconds: int = 0
    ) -> None:
        super().__init__(message, key=key)
        self.retry_after_seconds = retry_after_seconds


class IdempotencyKeyMissing(IdempotencyError, ValueError):
    """The key expression resolves to nothing in the payload; the handler did not run."""

    code = "IdempotencyKeyMissing"


class IdempotencyResultNotSerializable(IdempotencyError, TypeError):
    """The handler returned a value JSON cannot hold; nothing was stored."""

    code = "IdempotencyResultNotSerializable"
