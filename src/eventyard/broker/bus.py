"""`EventBus` and `Rule`: EventBridge-style content routing on top of queues and topics.

`EventBus.put_events` builds each entry's envelope, finds the matching rules
through a `RuleIndex` (not a loop over every pattern), shapes each target's
input, and hands the store one plan per event that commits in the caller's
transaction:

* queue targets get their message, topic targets fan out to their
  subscriptions, bus targets pass the event on to the other bus's rules (one
  hop), archives keep a copy — all atomically with the put;
* webhook targets get a durable delivery record that the dispatcher posts
  with the target's retry policy, then its dead-letter queue.

A bus handle caches its rules, targets and archives and re-reads them when
the store says the bus changed since (its generation moved).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from eventyard.broker.batch import BatchResult
from eventyard.broker.replay import Replay
from eventyard.broker.rule import Rule
from eventyard.errors import (
    EmptyBatchRequest,
    EventyardError,
    InvalidParameterValue,
    TooManyEntriesInBatch,
)
from eventyard.model import limits
from eventyard.model.body import BODY_JSON, BODY_TEXT, text_size_bytes
from eventyard.model.bus_config import (
    EntryError,
    RuleConfig,
    TargetConfig,
    build_event,
    check_event_size,
    check_rule_name,
    event_json,
    event_time_ms_of,
    ingestion_time,
    moment_ms,
    rfc3339,
)
from eventyard.model.ids import new_message_ids
from eventyard.model.internal import function_queue
from eventyard.model.names import shorten
from eventyard.model.schedule import Schedule
from eventyard.model.target_input import TargetInput
from eventyard.patterns import EventPattern, RuleIndex, compile_pattern
from eventyard.store.base import RecordChanged
from eventyard.store.records import (
    ArchivedEvent,
    ArchiveRecord,
    BusRecord,
    Guard,
    OutgoingMessage,
    PublishPlan,
    QueueDelivery,
    QueueRecord,
    ReplayRecord,
    RuleRecord,
)

if TYPE_CHECKING:
    from eventyard.broker.client import Client
    from eventyard.broker.topic import Topic


class PutEventsResult(NamedTuple):
    """One entry's outcome: its event id, or an error code and message."""

    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def error(self) -> EventyardError | None:
        if self.error_code is None:
            return None
        return InvalidParameterValue(f"{self.error_code}: {self.error_message}")


@dataclass(frozen=True, slots=True)
class _Target:
    config: TargetConfig
    shape: TargetInput
    queue: QueueRecord | None  # queue targets, and webhook targets (the delivery queue)
    topic: Topic | None
    bus: EventBus | None
    dead_letter_queue: QueueRecord | None


@dataclass(frozen=True, slots=True)
class _Rule:
    record: RuleRecord
    arn: str
    targets: list[_Target]


@dataclass(frozen=True, slots=True)
class _Routes:
    bus: BusRecord
    index: RuleIndex[int]
    rules: dict[int, _Rule]
    archives: list[tuple[ArchiveRecord, EventPattern | None]]


class EventBus:
    """An event bus of the store; cheap to create, safe to share between threads."""

    def __init__(self, client: Client, record: BusRecord) -> None:
        self._client = client
        self._store = client.store
        self._record = record
        self._routes: _Routes | None = None

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def arn(self) -> str:
        return self._client.identity.bus_arn(self.name)

    def __repr__(self) -> str:
        return f"EventBus({self.name!r})"

    # -- rules ---------------------------------------------------------------
    def put_rule(
        self,
        name: str,
        *,
        pattern: object = None,
        schedule: str | None = None,
        enabled: bool = True,
        description: str | None = None,
    ) -> Rule:
        """Create or update a rule with an event pattern and/or a schedule.

        The pattern is compiled now; an invalid one raises `InvalidEventPattern`.
        """
        check_rule_name(name)
        if pattern is None and schedule is None:
            raise InvalidParameterValue(f"rule {name!r} needs a pattern, a schedule, or both")
        pattern_text = None if pattern is None else compile_pattern(pattern).json  # type: ignore[arg-type]
        schedule_text = None if schedule is None else Schedule.parse(schedule).expression
        if schedule_text is not None and self.name != "default":
            raise InvalidParameterValue(
                "scheduled rules can only be created on the default event bus (as in EventBridge)"
            )
        if not isinstance(enabled, bool):
            raise InvalidParameterValue(f"enabled must be True or False, got {shorten(enabled)}")
        if description is not None and (
            not isinstance(description, str)
            or len(description) > limits.RULE_DESCRIPTION_MAX_LENGTH
        ):
            raise InvalidParameterValue(
                f"description must be text of at most {limits.RULE_DESCRIPTION_MAX_LENGTH} "
                "characters"
            )
        config = RuleConfig(
            pattern_text, schedule_text, "ENABLED" if enabled else "DISABLED", description
        )
        record = self._store.put_rule(self.name, name, config, self._client.now_ms())
        self._routes = None
        return Rule(self._client, record)

    def rule(self, name: str) -> Rule:
        return Rule(self._client, self._store.get_rule(self.name, name))

    def rules(self) -> list[Rule]:
        return [Rule(self._client, record) for record in self._store.list_rules(self.name)]

    def delete_rule(self, name: str, *, force: bool = False) -> None:
        self._store.delete_rule(self.name, name, force)
        self._routes = None

    # -- archives ------------------------------------------------------------
    def create_archive(
        self,
        name: str,
        *,
        pattern: object = None,
        retention_days: int = 0,
        description: str | None = None,
    ) -> ArchiveRecord:
        """Keep this bus's events (all, or those matching ``pattern``) for replay.

        ``retention_days`` 0 keeps them for ever (as EventBridge's default).
        """
        check_rule_name(name, "archive name")
        pattern_text = None if pattern is None else compile_pattern(pattern).json  # type: ignore[arg-type]
        from eventyard.model.names import check_int_range

        days = check_int_range(
            retention_days, "retention_days", 0, limits.ARCHIVE_RETENTION_MAX_DAYS
        )
        record = self._store.create_archive(
            name, self.name, pattern_text, days, description, self._client.now_ms()
        )
        self._routes = None
        return record

    def start_replay(
        self,
        name: str,
        *,
        archive: str,
        start: datetime | float,
        end: datetime | float,
        rules: Iterable[str] | None = None,
    ) -> Replay:
        """Put the archived events of [start, end) back on this bus, in time order.

        Replayed events carry ``replay-name`` and are not archived again;
        ``rules`` limits the replay to those rules. A dispatcher carries it out.
        """
        check_rule_name(name, "replay name")
        start_ms, end_ms = moment_ms(start, "start"), moment_ms(end, "end")
        if start_ms >= end_ms:
            raise InvalidParameterValue(f"start ({start}) must be before end ({end})")
        if end_ms > self._client.now_ms():
            raise InvalidParameterValue(f"end ({end}) must not be in the future")
        archive_record = self._store.get_archive(archive)
        if archive_record.bus_name != self.name:
            raise InvalidParameterValue(
                f"archive {archive!r} keeps events of bus {archive_record.bus_name!r}; replay "
                "onto that bus"
            )
        only = None if rules is None else tuple(check_rule_name(rule) for rule in rules)
        self._store.start_replay(
            name, archive, self.name, start_ms, end_ms, only, self._client.now_ms()
        )
        return Replay(self._client, name)

    def replay_batch(self, replay: ReplayRecord, events: list[tuple[int, str, str]]) -> int:
        """Put one batch of archived events back on the bus (inside the caller's transaction)."""
        if not events:
            return 0
        parsed = [json.loads(text) for _, _, text in events]
        only = None if replay.rules is None else frozenset(replay.rules)
        for start in range(0, len(parsed), limits.PUT_EVENTS_MAX_ENTRIES):
            chunk = parsed[start : start + limits.PUT_EVENTS_MAX_ENTRIES]
            self._put(list(chunk), replay_name=replay.name, only_rules=only, events=chunk)
        return len(parsed)

    # -- events --------------------------------------------------------------
    def put_events(self, entries: Iterable[Mapping[str, Any]]) -> BatchResult[PutEventsResult]:
        """Put 1-10 events on the bus; a result per entry (failed entries do not stop others).

        Each entry: ``source``, ``detail_type`` (or ``detail-type``), ``detail``
        (a dict or JSON object text), optional ``resources`` and ``time``.
        """
        items = list(entries)
        if not items:
            raise EmptyBatchRequest("put_events needs at least 1 entry; got none")
        if len(items) > limits.PUT_EVENTS_MAX_ENTRIES:
            raise TooManyEntriesInBatch(
                f"put_events holds {len(items)} entries; the limit is "
                f"{limits.PUT_EVENTS_MAX_ENTRIES}"
            )
        return self._put(items, replay_name=None, only_rules=None)

    def _put(
        self,
        items: list[Mapping[str, Any]],
        *,
        replay_name: str | None,
        only_rules: frozenset[str] | None,
        events: list[dict[str, Any]] | None = None,
    ) -> BatchResult[PutEventsResult]:
        try:
            return self._put_once(items, replay_name, only_rules, events)
        except RecordChanged:
            self._routes = None
            return self._put_once(items, replay_name, only_rules, events)

    def _put_once(
        self,
        items: list[Mapping[str, Any]],
        replay_name: str | None,
        only_rules: frozenset[str] | None,
        events: list[dict[str, Any]] | None,
    ) -> BatchResult[PutEventsResult]:
        client = self._client
        now_ms = client.now_ms()
        event_ids = new_message_ids(len(items))
        results: list[PutEventsResult] = []
        plans: list[PublishPlan] = []
        for index, item in enumerate(items):
            try:
                if events is not None:
                    event = events[index]
                    event_time_ms = event_time_ms_of(event["time"])
                else:
                    if not isinstance(item, Mapping):
                        raise EntryError("InvalidArgument", "an entry must be a mapping")
                    event, event_time_ms = build_event(
                        item,
                        event_id=event_ids[index],
                        now_ms=now_ms,
                        account=client.identity.account_id,
                        region=client.identity.region,
                    )
                if replay_name is not None:
                    event["replay-name"] = replay_name
                text = event_json(event)
                check_event_size(text)
                plans.append(
                    self.plan_event(
                        event,
                        text,
                        event_time_ms,
                        now_ms,
                        archive=replay_name is None,
                        only_rules=only_rules,
                    )
                )
                results.append(PutEventsResult(event["id"]))
            except EntryError as exc:
                results.append(PutEventsResult(None, exc.code, exc.message))
        if plans:
            self._store.execute_plans(plans, now_ms, client.sender_id)
        return BatchResult(results)

    def plan_event(
        self,
        event: dict[str, Any],
        text: str,
        event_time_ms: int,
        now_ms: int,
        *,
        archive: bool = True,
        only_rules: frozenset[str] | None = None,
        hops: int = 0,
    ) -> PublishPlan:
        """What one event on this bus does: queue messages, topic fan-out, forwards, archive."""
        routes = self._current_routes()
        matched = [
            routes.rules[rule_id]
            for rule_id in routes.index.match(event)
            if only_rules is None or routes.rules[rule_id].record.name in only_rules
        ]
        return self._plan_for_rules(
            event, text, event_time_ms, now_ms, matched, routes, archive=archive, hops=hops
        )

    def _plan_for_rules(
        self,
        event: dict[str, Any],
        text: str,
        event_time_ms: int,
        now_ms: int,
        matched: list[_Rule],
        routes: _Routes,
        *,
        archive: bool,
        hops: int,
    ) -> PublishPlan:
        guards: list[Guard] = [Guard("bus", routes.bus.id, routes.bus.generation, routes.bus.name)]
        archived: list[ArchivedEvent] = []
        if archive:
            for record, pattern in routes.archives:
                if pattern is None or pattern.matches(event):
                    archived.append(ArchivedEvent(record.id, event_time_ms, event["id"], text))
        nested: list[PublishPlan] = []
        direct: list[QueueDelivery] = []
        ingestion = ingestion_time(now_ms)
        for rule in matched:
            for target in rule.targets:
                delivery = self._deliver(
                    target, rule, event, text, ingestion, now_ms, event_time_ms, hops
                )
                if isinstance(delivery, PublishPlan):
                    nested.append(delivery)
                    guards.extend(delivery.guards)
                    archived.extend(delivery.archive)
                elif delivery is not None:
                    direct.append(delivery)

        def build(sequence_number: str | None) -> list[QueueDelivery]:
            deliveries = list(direct)
            for plan in nested:
                deliveries.extend(plan.build(None))
            return deliveries

        return PublishPlan(guards=tuple(guards), build=build, archive=tuple(archived))

    def _deliver(
        self,
        target: _Target,
        rule: _Rule,
        event: dict[str, Any],
        text: str,
        ingestion: str,
        now_ms: int,
        event_time_ms: int,
        hops: int,
    ) -> QueueDelivery | PublishPlan | None:
        config = target.config
        rendered = target.shape.render(
            event,
            rule_name=rule.record.name,
            rule_arn=rule.arn,
            ingestion_time=ingestion,
            event_json=text,
        )
        as_json = target.shape.kind != "input_transformer" or target.shape.template_is_json
        if config.kind == "queue":
            assert target.queue is not None
            return _queue_message(target, target.queue, rendered, as_json, rule, event)
        if config.kind == "topic":
            assert target.topic is not None
            return target.topic.plan_message(json.loads(rendered) if as_json else rendered, now_ms)
        if config.kind == "bus":
            assert target.bus is not None
            if hops >= limits.BUS_HOPS_MAX:
                return None  # an event that came from another bus is not forwarded again
            return target.bus.plan_event(
                event, text, event_time_ms, now_ms, archive=True, hops=hops + 1
            )
        if config.kind == "function":
            assert target.queue is not None
            # An invocation of the function: its input, and the rule that sent it.
            payload = rendered if as_json else json.dumps(rendered, ensure_ascii=False)
            invocation = f'{{"source":"events","rule_arn":"{rule.arn}","input":{payload}}}'
            return QueueDelivery(
                target.queue,
                [
                    OutgoingMessage(
                        str(uuid.uuid4()), invocation, BODY_JSON, None, 0, None, None, None
                    )
                ],
            )
        assert target.queue is not None  # webhook: a delivery record for the dispatcher
        record = {
            "kind": "eventbridge-http",
            "url": config.endpoint,
            "body": rendered,
            "bus": self.name,
            "rule": rule.record.name,
            "rule_arn": rule.arn,
            "target_id": config.target_id,
            "event_id": event["id"],
            "event_time_ms": now_ms,
            "max_attempts": config.max_attempts,
            "max_event_age_seconds": config.max_event_age_seconds,
            "dead_letter_queue": config.dead_letter_queue,
        }
        body = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        return QueueDelivery(
            target.queue,
            [OutgoingMessage(str(uuid.uuid4()), body, BODY_JSON, None, 0, None, None, None)],
        )

    def _current_routes(self) -> _Routes:
        routes = self._routes
        if routes is not None:
            return routes
        client = self._client
        snapshot = self._store.bus_snapshot(self.name)
        self._record = snapshot.bus
        index: RuleIndex[int] = RuleIndex()
        rules: dict[int, _Rule] = {}
        for record, target_configs in snapshot.rules:
            if not record.enabled or record.config.pattern is None:
                continue
            arn = client.identity.rule_arn(self.name, record.name)
            targets = [self._resolve(config) for config in target_configs]
            rules[record.id] = _Rule(record, arn, targets)
            index.add(record.id, compile_pattern(record.config.pattern))
        archives = [
            (record, None if record.pattern is None else compile_pattern(record.pattern))
            for record in snapshot.archives
        ]
        self._routes = _Routes(snapshot.bus, index, rules, archives)
        return self._routes

    def scheduled_plan(self, record: RuleRecord, tick_ms: int, now_ms: int) -> PublishPlan:
        """The plan of one scheduled tick: a 'Scheduled Event' to that rule's targets only."""
        client = self._client
        arn = client.identity.rule_arn(self.name, record.name)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": client.identity.account_id,
            "time": rfc3339(datetime.fromtimestamp(tick_ms / 1000, tz=UTC)),
            "region": client.identity.region,
            "resources": [arn],
            "detail": {},
        }
        routes = self._current_routes()
        targets = [self._resolve(config) for config in self._store.rule_targets(record)]
        return self._plan_for_rules(
            event,
            event_json(event),
            tick_ms,
            now_ms,
            [_Rule(record, arn, targets)],
            routes,
            archive=True,
            hops=0,
        )

    def _resolve(self, config: TargetConfig) -> _Target:
        client = self._client
        store = self._store
        queue = topic = bus = None
        if config.kind == "queue":
            queue = store.get_queue(config.endpoint)
        elif config.kind == "topic":
            topic = client.get_topic(config.endpoint)
        elif config.kind == "bus":
            bus = client.bus(config.endpoint)
        elif config.kind == "function":
            queue = store.get_queue(function_queue(config.endpoint))
        else:
            queue = client.delivery_queue_record()
        dead_letter = (
            None if config.dead_letter_queue is None else store.get_queue(config.dead_letter_queue)
        )
        return _Target(
            config, TargetInput.from_json(config.input_shape), queue, topic, bus, dead_letter
        )


def _queue_message(
    target: _Target,
    queue: QueueRecord,
    rendered: str,
    as_json: bool,
    rule: _Rule,
    event: dict[str, Any],
) -> QueueDelivery:
    """The message a queue target gets (its dead-letter queue's, if the queue cannot take it)."""
    config = target.config
    size = text_size_bytes(rendered)
    attributes = None
    if size > queue.config.max_message_bytes:
        if target.dead_letter_queue is None:
            raise EntryError(
                "TargetDeliveryFailed",
                f"the input of target {config.target_id!r} is {size} bytes; queue "
                f"{queue.name!r} accepts at most {queue.config.max_message_bytes}",
            )
        queue = target.dead_letter_queue
        from eventyard.model.attributes import encode_attributes

        attributes, _ = encode_attributes(
            {
                "ERROR_CODE": "MessageTooLong",
                "ERROR_MESSAGE": f"the input is {size} bytes; {config.endpoint!r} takes "
                f"{target.queue.config.max_message_bytes if target.queue else 0}",
                "RULE_ARN": rule.arn,
                "TARGET_ARN": config.endpoint,
            }
        )
    deduplication_key = None
    if queue.fifo:
        deduplication_key = event["id"]
    return QueueDelivery(
        queue,
        [
            OutgoingMessage(
                str(uuid.uuid4()),
                rendered,
                BODY_JSON if as_json else BODY_TEXT,
                attributes,
                queue.config.delay_seconds,
                config.group_id if queue.fifo else None,
                event["id"] if queue.fifo else None,
                deduplication_key,
            )
        ],
    )
