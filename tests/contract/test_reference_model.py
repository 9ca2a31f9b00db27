"""The store against a reference model built from the pure lifecycle rules.

Hypothesis drives random sequences of send / receive / delete /
change_visibility / clock moves against a real database and against an
in-memory model that applies `eventyard.lifecycle` message by message; after
every step both must agree on what was received, on each call's outcome, and
on the counts.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from tests_support import FakeClock

import eventyard
from eventyard import lifecycle
from eventyard.lifecycle import MS, State

RETENTION_SECONDS = 60
MAX_RECEIVE_COUNT = 2


@dataclass
class ModelMessage:
    body: str
    sequence: int
    visible_at_ms: int
    retained_from_ms: int
    receive_count: int = 0
    received_at_ms: int | None = None
    latest_receive: int = 0  # which receive's handle is current
    in_dead_letter_queue: bool = False


@dataclass
class Handle:
    receipt_handle: str
    message: ModelMessage
    receive_number: int


class QueueAgainstModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.clock = FakeClock()
        self.client = eventyard.connect(
            f"sqlite:///{Path(self.directory.name) / 'model.db'}",
            durability="process",
            clock=self.clock,
        )
        self.messages: list[ModelMessage] = []
        self.handles: list[Handle] = []
        self.sequence = 0

    @initialize(visibility_timeout=st.integers(0, 20))
    def create(self, visibility_timeout: int) -> None:
        self.dlq = self.client.create_queue("dlq", retention_seconds=RETENTION_SECONDS)
        self.queue = self.client.create_queue(
            "q",
            visibility_timeout=visibility_timeout,
            retention_seconds=RETENTION_SECONDS,
            dead_letter_queue="dlq",
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        self.visibility_timeout = visibility_timeout

    def now_ms(self) -> int:
        return int(self.clock.now * 1000)

    def live(self, in_dead_letter_queue: bool = False) -> list[ModelMessage]:
        now = self.now_ms()
        return [
            m
            for m in self.messages
            if m.in_dead_letter_queue == in_dead_letter_queue
            and not lifecycle.is_expired(m.retained_from_ms, RETENTION_SECONDS, now)
        ]

    @rule(count=st.integers(1, 10), delay=st.sampled_from([None, 0, 3, 30]))
    def send(self, count: int, delay: int | None) -> None:
        bodies = []
        for _ in range(count):
            self.sequence += 1
            body = f"m{self.sequence}"
            bodies.append({"body": body, "delay_seconds": delay})
            self.messages.append(
                ModelMessage(
                    body,
                    self.sequence,
                    lifecycle.visible_after_send(self.now_ms(), delay or 0),
                    self.now_ms(),
                )
            )
        assert all(r.ok for r in self.queue.send_batch(bodies))

    @rule(max_messages=st.integers(1, 10), visibility=st.sampled_from([None, 0, 5]))
    def receive(self, max_messages: int, visibility: int | None) -> None:
        now = self.now_ms()
        timeout = self.visibility_timeout if visibility is None else visibility
        expected: list[ModelMessage] = []
        candidates = sorted(
            (m for m in self.live() if m.visible_at_ms <= now),
            key=lambda m: (m.visible_at_ms, m.sequence),
        )
        for message in candidates:
            if len(expected) == max_messages:
                break
            event = lifecycle.receive_event(message.receive_count, MAX_RECEIVE_COUNT)
            if event is lifecycle.Event.RECEIVE_OVER_LIMIT:
                message.in_dead_letter_queue = True
                message.visible_at_ms = now
                continue
            expected.append(message)
        got = self.queue.receive(max_messages=max_messages, visibility_timeout=visibility)
        assert sorted(m.body for m in got) == sorted(m.body for m in expected)
        by_body = {m.body: m for m in expected}
        for received in got:
            message = by_body[received.body]
            message.receive_count += 1
            message.latest_receive += 1
            message.received_at_ms = now
            message.visible_at_ms = lifecycle.visible_after_receive(now, timeout)
            assert received.receive_count == message.receive_count
            self.handles.append(Handle(received.receipt_handle, message, message.latest_receive))

    @precondition(lambda self: self.handles)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        handle = data.draw(st.sampled_from(self.handles))
        message = handle.message
        gone = message not in self.live() or message.in_dead_letter_queue
        stale = handle.receive_number != message.latest_receive or message.in_dead_letter_queue
        if stale and not (gone and not message.in_dead_letter_queue):
            try:
                self.queue.delete(handle.receipt_handle)
            except eventyard.ReceiptHandleIsInvalid:
                return
            raise AssertionError("a stale handle deleted a message")
        self.queue.delete(handle.receipt_handle)
        if message in self.messages:
            self.messages.remove(message)

    @precondition(lambda self: self.handles)
    @rule(data=st.data(), timeout=st.sampled_from([0, 1, 10, 43_200]))
    def change_visibility(self, data: st.DataObject, timeout: int) -> None:
        handle = data.draw(st.sampled_from(self.handles))
        message = handle.message
        now = self.now_ms()
        expected: type[Exception] | None = None
        new_visible_at = None
        stale = handle.receive_number != message.latest_receive
        if message not in self.live() or message.in_dead_letter_queue or stale:
            expected = eventyard.ReceiptHandleIsInvalid
        else:
            try:
                new_visible_at = lifecycle.visible_after_change(
                    visible_at_ms=message.visible_at_ms,
                    received_at_ms=message.received_at_ms,
                    receive_count=message.receive_count,
                    new_timeout_seconds=timeout,
                    now_ms=now,
                )
            except eventyard.EventyardError as exc:
                expected = type(exc)
        if expected is None:
            self.queue.change_visibility(handle.receipt_handle, timeout)
            assert new_visible_at is not None
            message.visible_at_ms = new_visible_at
        else:
            with pytest.raises(expected):
                self.queue.change_visibility(handle.receipt_handle, timeout)

    @rule(seconds=st.sampled_from([0.001, 1, 3, 5, 20, 61]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def counts_agree(self) -> None:
        if not hasattr(self, "queue"):
            return
        now = self.now_ms()
        states = [
            lifecycle.state_of(
                m.visible_at_ms, m.receive_count, m.retained_from_ms, RETENTION_SECONDS, now
            )
            for m in self.live()
        ]
        stats = self.queue.stats()
        assert stats.visible == states.count(State.VISIBLE)
        assert stats.in_flight == states.count(State.IN_FLIGHT)
        assert stats.delayed == states.count(State.DELAYED)
        assert self.dlq.stats().total == len(
            [
                m
                for m in self.messages
                if m.in_dead_letter_queue and m.retained_from_ms + RETENTION_SECONDS * MS > now
            ]
        )

    def teardown(self) -> None:
        self.client.close()
        self.directory.cleanup()


QueueAgainstModel.TestCase.settings = settings(
    max_examples=int(os.environ.get("EVENTYARD_MODEL_EXAMPLES", "40")),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestQueueAgainstModel = QueueAgainstModel.TestCase


class FifoQueueAgainstModel(RuleBasedStateMachine):
    """FIFO group locks against `lifecycle.deliverable_fifo`, message by message."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.clock = FakeClock()
        self.client = eventyard.connect(
            f"sqlite:///{Path(self.directory.name) / 'fifo.db'}",
            durability="process",
            clock=self.clock,
        )
        self.queue = self.client.create_queue(
            "jobs.fifo", content_based_deduplication=True, visibility_timeout=5
        )
        self.messages: list[tuple[int, str, str]] = []  # (position, group, body)
        self.visible_at: dict[str, int] = {}
        self.handles: dict[str, str] = {}
        self.sequence = 0

    def now_ms(self) -> int:
        return int(self.clock.now * 1000)

    @rule(groups=st.lists(st.sampled_from("abc"), min_size=1, max_size=10))
    def send(self, groups: list[str]) -> None:
        entries = []
        for group in groups:
            self.sequence += 1
            body = f"{group}{self.sequence}"
            entries.append({"body": body, "group_id": group})
            self.messages.append((self.sequence, group, body))
            self.visible_at[body] = self.now_ms()
        assert all(r.ok for r in self.queue.send_batch(entries))

    @rule(max_messages=st.integers(1, 10))
    def receive(self, max_messages: int) -> None:
        now = self.now_ms()
        expected = lifecycle.deliverable_fifo(
            [
                lifecycle.FifoCandidate(position, group, self.visible_at[body])
                for position, group, body in self.messages
            ],
            now,
            max_messages,
        )
        bodies = {position: body for position, _, body in self.messages}
        got = self.queue.receive(max_messages)
        assert [m.body for m in got] == [bodies[c.position] for c in expected]
        for message in got:
            self.visible_at[message.body] = now + 5_000
            self.handles[message.body] = message.receipt_handle

    @precondition(lambda self: self.handles)
    @rule(data=st.data(), release=st.booleans())
    def finish(self, data: st.DataObject, release: bool) -> None:
        body = data.draw(st.sampled_from(sorted(self.handles)))
        handle = self.handles.pop(body)
        if self.visible_at[body] <= self.now_ms():
            return  # no longer in flight: another receive may hold it
        if release:
            self.queue.change_visibility(handle, 0)
            self.visible_at[body] = self.now_ms()
        else:
            self.queue.delete(handle)
            self.messages = [m for m in self.messages if m[2] != body]

    @rule(seconds=st.sampled_from([1, 5]))
    def advance(self, seconds: int) -> None:
        self.clock.advance(seconds)

    def teardown(self) -> None:
        self.client.close()
        self.directory.cleanup()


FifoQueueAgainstModel.TestCase.settings = QueueAgainstModel.TestCase.settings
TestFifoQueueAgainstModel = FifoQueueAgainstModel.TestCase
