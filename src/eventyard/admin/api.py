"""The admin API's JSON routes (under ``/admin/api``): what an operator reads and does.

Each handler runs on a worker thread with the surface's client and returns a
response model; `ROUTES` declares them (method, path, models, query
parameters) for the server and for the OpenAPI document alike. eventyard's
own queues (names starting ``eventyard:``) are never listed nor reachable.
"""

from __future__ import annotations

from typing import Final, TypeVar

from eventyard.admin import models, shapes
from eventyard.admin.endpoint import ApiRoute, Call, QueryParam
from eventyard.admin.inputs import query_int, query_text
from eventyard.admin.replies import ApiError
from eventyard.broker.queue import Queue
from eventyard.errors import QueueDoesNotExist
from eventyard.model.internal import function_queue, is_internal_queue
from eventyard.model.names import shorten
from eventyard.store.records import QueueRecord

#: Messages per page of a peek (each comes with its failure history).
PEEK_DEFAULT: Final = 20
PEEK_MAX: Final = 100
#: The window of the function figures.
STATS_WINDOW_SECONDS: Final = 300

_FUNCTION_QUEUE_PREFIX: Final = function_queue("")

M = TypeVar("M", bound=models.RequestModel)


def _queue(call: Call, name: str | None = None) -> Queue:
    """The user queue named in the path (404 for eventyard's own queues)."""
    name = call.path("queue") if name is None else name
    if is_internal_queue(name):
        raise QueueDoesNotExist(f"queue {shorten(name)} does not exist")
    return call.client.get_queue(name)


def _body(call: Call, model: type[M]) -> M:
    assert isinstance(call.body, model)
    return call.body


def _summaries(call: Call, records: list[QueueRecord]) -> list[models.QueueSummary]:
    """Summaries of ``records``; every user queue is read once for its counts."""
    client, store = call.client, call.client.store
    now_ms = client.now_ms()
    every = [record for record in store.list_queues() if not is_internal_queue(record.name)]
    dead_letter_targets = {r.config.dead_letter_queue for r in every} - {None}
    by_name = {record.name: record for record in every}
    depths: dict[str, int] = {}
    result = []
    for record in records:
        dlq = record.config.dead_letter_queue
        depth = None
        if dlq is not None and dlq in by_name:
            if dlq not in depths:
                depths[dlq] = store.queue_stats(by_name[dlq], now_ms).total
            depth = depths[dlq]
        result.append(
            shapes.queue_summary(
                record.name,
                client.identity.queue_arn(record.name),
                record.config,
                store.queue_stats(record, now_ms),
                store.queue_counters(record),
                dlq_depth=depth,
                is_dlq=record.name in dead_letter_targets,
            )
        )
    return result


# -- queues --------------------------------------------------------------------------


def list_queues(call: Call) -> models.QueueList:
    records = [r for r in call.client.store.list_queues() if not is_internal_queue(r.name)]
    return models.QueueList(queues=_summaries(call, records))


def get_queue(call: Call) -> models.QueueDetail:
    queue = _queue(call)
    record = call.client.store.get_queue(queue.name)
    summary = _summaries(call, [record])[0]
    return models.QueueDetail(
        **summary.model_dump(),
        attributes=shapes.queue_attributes(record.config),
        dead_letter_sources=call.client.dead_letter_source_queues(queue.name),
        redrive_tasks=[shapes.redrive_progress(t) for t in call.client.redrive_tasks(queue.name)],
    )


def peek_messages(call: Call) -> models.MessagePageBody:
    queue = _queue(call)
    limit = query_int(call.request, "limit", PEEK_DEFAULT, 1, PEEK_MAX)
    page = queue.peek(limit, query_text(call.request, "page_token"))
    return models.MessagePageBody(
        queue=queue.name,
        messages=[
            shapes.peeked(message, call.client.message_failures(message.message_id))
            for message in page.messages
        ],
        next_page_token=page.next_page_token,
    )


def send_message(call: Call) -> models.SentMessage:
    request = _body(call, models.SendMessageRequest)
    message_id = _queue(call).send(
        request.body,
        attributes=request.attributes,
        delay_seconds=request.delay_seconds,
        group_id=request.group_id,
        deduplication_id=request.deduplication_id,
    )
    return models.SentMessage(message_id=message_id)


def delete_message(call: Call) -> models.DeletedMessage:
    queue = _queue(call)
    result = queue.delete_message_ids([call.path("message_id")])[0]
    if result.error is not None:
        raise result.error
    return models.DeletedMessage(queue=queue.name, message_id=result.message_id)


def purge_queue(call: Call) -> models.Purged:
    queue = _queue(call)
    return models.Purged(queue=queue.name, purged=queue.purge())


def redrive(call: Call) -> models.RedriveResult:
    request = _body(call, models.RedriveRequest)
    queue = _queue(call)
    if request.destination is not None:
        _queue(call, request.destination)  # 404 for a missing (or internal) destination
    if request.message_ids is None:
        task = call.client.start_redrive(
            queue.name,
            destination=request.destination,
            max_messages_per_second=request.max_messages_per_second,
        )
        return models.RedriveResult(task=shapes.redrive_progress(task.progress()), results=None)
    if request.max_messages_per_second is not None:
        raise ApiError(
            400,
            "InvalidParameterValue",
            "max_messages_per_second applies to a whole-queue redrive only (no message_ids)",
        )
    results = call.client.redrive_messages(queue.name, request.message_ids, request.destination)
    return models.RedriveResult(task=None, results=[shapes.outcome(r) for r in results])


def redrive_task(call: Call) -> models.RedriveProgressBody:
    return shapes.redrive_progress(call.client.store.get_move_task(call.path("task_id")))


# -- topics --------------------------------------------------------------------------


def list_topics(call: Call) -> models.TopicList:
    client = call.client
    by_topic: dict[str, list[models.SubscriptionBody]] = {}
    for item in client.list_subscriptions():
        by_topic.setdefault(item.topic, []).append(shapes.subscription(item))
    return models.TopicList(
        topics=[
            models.TopicBody(
                name=record.name,
                arn=client.identity.topic_arn(record.name),
                fifo=record.config.fifo,
                subscriptions=by_topic.get(record.name, []),
            )
            for record in client.store.list_topics()
        ]
    )


def publish(call: Call) -> models.Published:
    request = _body(call, models.PublishRequest)
    topic = call.client.get_topic(call.path("topic"))
    message_id = topic.publish(
        request.message,
        subject=request.subject,
        attributes=request.attributes,
        group_id=request.group_id,
        deduplication_id=request.deduplication_id,
    )
    return models.Published(topic=topic.name, message_id=message_id)


# -- buses and rules -----------------------------------------------------------------


def list_buses(call: Call) -> models.BusList:
    client = call.client
    archives = client.store.list_archives()
    return models.BusList(
        buses=[
            models.BusBody(
                name=record.name,
                arn=client.identity.bus_arn(record.name),
                rules=len(client.store.list_rules(record.name)),
                archives=[shapes.archive(a) for a in archives if a.bus_name == record.name],
            )
            for record in client.store.list_buses()
        ]
    )


def list_rules(call: Call) -> models.RuleList:
    bus = call.client.bus(call.path("bus"))
    return models.RuleList(bus=bus.name, rules=[shapes.rule(rule) for rule in bus.rules()])


def enable_rule(call: Call) -> models.RuleBody:
    return shapes.rule(call.client.bus(call.path("bus")).rule(call.path("rule")).enable())


def disable_rule(call: Call) -> models.RuleBody:
    return shapes.rule(call.client.bus(call.path("bus")).rule(call.path("rule")).disable())


def put_events(call: Call) -> models.PutEventsResponse:
    request = _body(call, models.PutEventsRequest)
    bus = call.client.bus(call.path("bus"))
    entries = [entry.model_dump(exclude_none=True) for entry in request.entries]
    results = bus.put_events(entries)
    return models.PutEventsResponse(
        bus=bus.name,
        failed_entry_count=sum(1 for r in results if not r.ok),
        entries=[
            models.EventOutcome(
                event_id=r.event_id, error_code=r.error_code, error_message=r.error_message
            )
            for r in results
        ],
    )


def start_replay(call: Call) -> models.ReplayBody:
    request = _body(call, models.ReplayRequest)
    bus = call.client.bus(call.path("bus"))
    replay = bus.start_replay(
        request.name,
        archive=request.archive,
        start=request.start,
        end=request.end,
        rules=request.rules,
    )
    return shapes.replay(replay.progress())


def get_replay(call: Call) -> models.ReplayBody:
    return shapes.replay(call.client.store.get_replay(call.path("replay")))


# -- functions -----------------------------------------------------------------------


def list_functions(call: Call) -> models.FunctionList:
    client = call.client
    stats = client.function_stats(STATS_WINDOW_SECONDS)
    now_ms = client.now_ms()
    pending = {
        record.name[len(_FUNCTION_QUEUE_PREFIX) :]: client.store.queue_stats(record, now_ms).total
        for record in client.store.list_queues(_FUNCTION_QUEUE_PREFIX)
    }
    names = sorted(set(stats) | set(pending))
    return models.FunctionList(
        window_seconds=STATS_WINDOW_SECONDS,
        functions=[
            shapes.function(
                name,
                stats.get(name),
                pending=pending.get(name),
                window_seconds=STATS_WINDOW_SECONDS,
            )
            for name in names
        ],
    )


# -- the caller ----------------------------------------------------------------------


def session(call: Call) -> models.SessionBody:
    cookie = call.principal.session
    return models.SessionBody(
        authenticated_by=call.principal.kind,
        csrf_token=None if cookie is None else cookie.csrf_token(call.guard.keys),
        expires_at=None if cookie is None else cookie.expires,
    )


_PAGE = (
    QueryParam("limit", "integer", f"messages per page (default {PEEK_DEFAULT})", 1, PEEK_MAX),
    QueryParam("page_token", "string", "the next_page_token of the previous page"),
)

ROUTES: Final[tuple[ApiRoute, ...]] = (
    ApiRoute("GET", "/queues", list_queues, "Queues with their counts", models.QueueList),
    ApiRoute("GET", "/queues/{queue}", get_queue, "One queue", models.QueueDetail),
    ApiRoute(
        "GET",
        "/queues/{queue}/messages",
        peek_messages,
        "Look at a queue's messages without receiving them, oldest first",
        models.MessagePageBody,
        query=_PAGE,
    ),
    ApiRoute(
        "POST",
        "/queues/{queue}/messages",
        send_message,
        "Send a message",
        models.SentMessage,
        models.SendMessageRequest,
        status=201,
    ),
    ApiRoute(
        "DELETE",
        "/queues/{queue}/messages/{message_id}",
        delete_message,
        "Delete a message by id, whatever its state",
        models.DeletedMessage,
    ),
    ApiRoute(
        "POST",
        "/queues/{queue}/purge",
        purge_queue,
        "Delete every message (once per 60 s)",
        models.Purged,
        models.EmptyRequest,
    ),
    ApiRoute(
        "POST",
        "/queues/{queue}/redrive",
        redrive,
        "Move a dead-letter queue's messages back: all (a task) or the ones named (now)",
        models.RedriveResult,
        models.RedriveRequest,
    ),
    ApiRoute(
        "GET",
        "/redrives/{task_id}",
        redrive_task,
        "A redrive task's progress",
        models.RedriveProgressBody,
    ),
    ApiRoute("GET", "/topics", list_topics, "Topics and their subscriptions", models.TopicList),
    ApiRoute(
        "POST",
        "/topics/{topic}/publish",
        publish,
        "Publish a message",
        models.Published,
        models.PublishRequest,
        status=201,
    ),
    ApiRoute("GET", "/buses", list_buses, "Event buses and their archives", models.BusList),
    ApiRoute("GET", "/buses/{bus}/rules", list_rules, "A bus's rules and targets", models.RuleList),
    ApiRoute(
        "POST",
        "/buses/{bus}/rules/{rule}/enable",
        enable_rule,
        "Enable a rule",
        models.RuleBody,
        models.EmptyRequest,
    ),
    ApiRoute(
        "POST",
        "/buses/{bus}/rules/{rule}/disable",
        disable_rule,
        "Disable a rule",
        models.RuleBody,
        models.EmptyRequest,
    ),
    ApiRoute(
        "POST",
        "/buses/{bus}/events",
        put_events,
        "Put 1-10 events on a bus (a result per entry)",
        models.PutEventsResponse,
        models.PutEventsRequest,
    ),
    ApiRoute(
        "POST",
        "/buses/{bus}/replays",
        start_replay,
        "Replay an archive's events onto the bus (a dispatcher carries it out)",
        models.ReplayBody,
        models.ReplayRequest,
        status=202,
    ),
    ApiRoute("GET", "/replays/{replay}", get_replay, "A replay's progress", models.ReplayBody),
    ApiRoute(
        "GET",
        "/functions",
        list_functions,
        f"Functions with their figures over the last {STATS_WINDOW_SECONDS // 60} minutes",
        models.FunctionList,
    ),
    ApiRoute(
        "GET",
        "/session",
        session,
        "Who is calling, and the CSRF token of a cookie session",
        models.SessionBody,
    ),
)
