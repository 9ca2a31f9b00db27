"""SQS over the AWS wire (JSON 1.0 and query): handlers on the Python API.

Importing this module registers every SQS operation eventyard answers; the
handlers live by subject in ``sqs_*`` modules:

* `sqs_queues`: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue,
  GetQueueAttributes, SetQueueAttributes, PurgeQueue, ListDeadLetterSourceQueues
  (attribute translation in `sqs_attributes`);
* `sqs_messages`: SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
  ChangeMessageVisibility(Batch);
* `sqs_moves`: StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask;
* `sqs_tags`: TagQueue, UntagQueue, ListQueueTags (kept in memory: see there);
* `sqs_common`: URLs, ARNs, MD5 digests, errors; `sqs_query_names`: the query
  wire's names, which botocore's JSON model of SQS no longer has.

AddPermission and RemovePermission are not implemented (``InvalidAction``).
"""

from __future__ import annotations

from eventyard.aws import sqs_messages, sqs_moves, sqs_queues, sqs_tags
from eventyard.aws.sqs_common import (
    md5_of_attributes,
    md5_of_body,
    queue_name,
    queue_url,
    the_queue,
)

__all__ = [
    "md5_of_attributes",
    "md5_of_body",
    "queue_name",
    "queue_url",
    "sqs_messages",
    "sqs_moves",
    "sqs_queues",
    "sqs_tags",
    "the_queue",
]
