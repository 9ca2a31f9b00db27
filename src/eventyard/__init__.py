"""eventyard: SQS, SNS, EventBridge and Lambda semantics you run yourself.

The public API is what this module exports; everything else is internal::

    import eventyard
    client = eventyard.connect()                  # sqlite:///./eventyard.db or $EVENTYARD_DB
    orders = client.create_queue("orders", dead_letter_queue="orders-dlq", max_receive_count=3)
    orders.send({"order_id": 1})
    for message in orders.receive(max_messages=10, wait_seconds=5):
        orders.delete(message.receipt_handle)
"""

from eventyard.broker.batch import (
    BatchResult,
    EntryResult,
    MessageIdResult,
    SendEntry,
    SendResult,
)
from eventyard.broker.bus import EventBus, PutEventsResult
from eventyard.broker.client import Client, connect
from eventyard.broker.dispatcher import Dispatcher
from eventyard.broker.queue import Queue
from eventyard.broker.redrive import RedriveProgress, RedriveTask
from eventyard.broker.replay import Replay
from eventyard.broker.rule import Rule
from eventyard.broker.subscription import Subscription
from eventyard.broker.topic import PublishEntry, PublishResult, Topic
from eventyard.broker.transaction import Transaction
from eventyard.errors import (
    ArchiveDoesNotExist,
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    BusDoesNotExist,
    EmptyBatchRequest,
    EventyardError,
    IdempotencyError,
    IdempotencyInProgress,
    IdempotencyKeyConflict,
    IdempotencyKeyMissing,
    IdempotencyResultNotSerializable,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidEventPattern,
    InvalidFilterPolicy,
    InvalidMessageContents,
    InvalidParameterValue,
    LimitExceeded,
    MessageNotFound,
    MessageNotInflight,
    MessageTooLong,
    MissingParameter,
    MoveTaskAlreadyRunning,
    MoveTaskNotFound,
    PurgeQueueInProgress,
    QueueAlreadyExists,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueInUse,
    ReceiptHandleIsInvalid,
    RedriveNotAllowed,
    ReplayDoesNotExist,
    ResourceAlreadyExists,
    ResourceInUse,
    ResourceNotFound,
    RuleDoesNotExist,
    SchemaTooNew,
    StoreBusy,
    StoreError,
    StoreUnavailable,
    SubscriptionAlreadyExists,
    SubscriptionDoesNotExist,
    TooManyEntriesInBatch,
    TopicAlreadyExists,
    TopicDoesNotExist,
    UnsupportedDatabaseUrl,
)
from eventyard.idempotency import idempotent
from eventyard.model.message import Message
from eventyard.model.peek import MessagePage, PeekedMessage
from eventyard.model.queue_config import QueueConfig, RedriveAllowPolicy
from eventyard.model.stats import FunctionStats
from eventyard.runtime.app import App
from eventyard.runtime.objects import Batch, BatchResponse, FunctionContext, Record
from eventyard.store.records import QueueCounters, QueueStats

__version__ = "0.1.0"

__all__ = [
    "App",
    "ArchiveDoesNotExist",
    "Batch",
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "BatchResponse",
    "BatchResult",
    "BusDoesNotExist",
    "Client",
    "Dispatcher",
    "EmptyBatchRequest",
    "EntryResult",
    "EventBus",
    "EventyardError",
    "FunctionContext",
    "FunctionStats",
    "IdempotencyError",
    "IdempotencyInProgress",
    "IdempotencyKeyConflict",
    "IdempotencyKeyMissing",
    "IdempotencyResultNotSerializable",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidBatchEntryId",
    "InvalidEventPattern",
    "InvalidFilterPolicy",
    "InvalidMessageContents",
    "InvalidParameterValue",
    "LimitExceeded",
    "Message",
    "MessageIdResult",
    "MessageNotFound",
    "MessageNotInflight",
    "MessagePage",
    "MessageTooLong",
    "MissingParameter",
    "MoveTaskAlreadyRunning",
    "MoveTaskNotFound",
    "PeekedMessage",
    "PublishEntry",
    "PublishResult",
    "PurgeQueueInProgress",
    "PutEventsResult",
    "Queue",
    "QueueAlreadyExists",
    "QueueConfig",
    "QueueCounters",
    "QueueDeletedRecently",
    "QueueDoesNotExist",
    "QueueInUse",
    "QueueStats",
    "ReceiptHandleIsInvalid",
    "Record",
    "RedriveAllowPolicy",
    "RedriveNotAllowed",
    "RedriveProgress",
    "RedriveTask",
    "Replay",
    "ReplayDoesNotExist",
    "ResourceAlreadyExists",
    "ResourceInUse",
    "ResourceNotFound",
    "Rule",
    "RuleDoesNotExist",
    "SchemaTooNew",
    "SendEntry",
    "SendResult",
    "StoreBusy",
    "StoreUnavailable",
    "StoreError",
    "Subscription",
    "SubscriptionAlreadyExists",
    "SubscriptionDoesNotExist",
    "TooManyEntriesInBatch",
    "Topic",
    "TopicAlreadyExists",
    "TopicDoesNotExist",
    "Transaction",
    "UnsupportedDatabaseUrl",
    "__version__",
    "connect",
    "idempotent",
]
