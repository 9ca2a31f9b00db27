"""``@idempotent``: effects happen once under at-least-once delivery (SEMANTICS.md, Idempotency).

Every test runs on a real SQLite file. Expiry tests move the client's FakeClock.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import FakeClock

import eventyard
from eventyard import Client
from eventyard.idempotency import (
    IdempotencyInProgress,
    IdempotencyKeyConflict,
    IdempotencyKeyMissing,
    IdempotencyResultNotSerializable,
    idempotent,
    payload_hash,
    payload_of,
    set_default_client,
    sweep_expired,
)
from eventyard.store.sql import idempotency as records


@pytest.fixture(autouse=True)
def _no_default_client() -> Iterator[None]:
    set_default_client(None)
    yield
    set_default_client(None)


def _record(client: Client, key: str) -> records.IdempotencyRecord | None:
    with client.store.database.read() as conn:  # type: ignore[attr-defined]
        return records.get(conn, key)


def _count_records(client: Client) -> int:
    with client.store.database.read() as conn:  # type: ignore[attr-defined]
        return int(conn.execute("SELECT count(*) FROM eventyard_idempotency").fetchone()[0])


class Recorder:
    """A handler that counts its runs and returns a JSON result."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, payload: Any) -> dict[str, Any]:
        self.calls.append(payload)
        return {"charged": True, "run": len(self.calls)}


# -- the basic states ------------------------------------------------------------------


def test_a_duplicate_after_completion_returns_the_stored_result_without_running(
    client: Client,
) -> None:
    handler = Recorder()
    charge = idempotent(key="order_id", client=client, namespace="charge")(handler)

    first = charge({"order_id": 7, "amount": 10})
    second = charge({"order_id": 7, "amount": 10})

    assert first == second == {"charged": True, "run": 1}
    assert len(handler.calls) == 1
    record = _record(client, "charge:7")
    assert record is not None
    assert record.status == "COMPLETED"
    assert json.loads(record.result or "") == first
    assert record.expires_at_ms == client.now_ms() + 3_600_000
    assert record.payload_hash == payload_hash({"amount": 10, "order_id": 7})


def test_different_keys_run_separately(client: Client) -> None:
    handler = Recorder()
    charge = idempotent(key="order_id", client=client)(handler)
    charge({"order_id": 1})
    charge({"order_id": 2})
    charge({"order_id": 1})
    assert [call["order_id"] for call in handler.calls] == [1, 2]


def test_the_first_call_gets_the_handlers_value_duplicates_its_json(client: Client) -> None:
    @idempotent(key="id", client=client)
    def handler(payload: dict[str, Any]) -> tuple[int, int]:
        return (1, 2)

    first: object = handler({"id": "a"})
    duplicate: object = handler({"id": "a"})
    assert first == (1, 2)
    assert duplicate == [1, 2]


def test_a_none_result_is_stored_and_replayed(client: Client) -> None:
    runs = Counter[str]()

    @idempotent(key="id", client=client)
    def handler(payload: dict[str, Any]) -> None:
        runs["run"] += 1

    assert handler({"id": 1}) is None
    assert handler({"id": 1}) is None
    assert runs["run"] == 1


def test_a_different_payload_under_a_completed_key_is_a_conflict(client: Client) -> None:
    handler = Recorder()
    charge = idempotent(key="order_id", client=client, namespace="charge")(handler)
    charge({"order_id": 7, "amount": 10})
    with pytest.raises(IdempotencyKeyConflict, match=r"charge:7.*different payload") as info:
        charge({"order_id": 7, "amount": 11})
    assert info.value.key == "charge:7"
    assert not info.value.retryable
    assert len(handler.calls) == 1


def test_the_payload_hash_ignores_key_order(client: Client) -> None:
    handler = Recorder()
    charge = idempotent(key="order_id", client=client)(handler)
    charge({"order_id": 7, "amount": 10, "currency": "EUR"})
    charge({"currency": "EUR", "amount": 10, "order_id": 7})
    assert len(handler.calls) == 1


def test_a_duplicate_during_a_run_is_in_progress_and_retryable(client: Client) -> None:
    seen: list[BaseException] = []

    @idempotent(key="order_id", client=client, in_progress_expiry_seconds=30)
    def charge(order: dict[str, Any]) -> str:
        with pytest.raises(IdempotencyInProgress) as info:
            charge(order)  # a second delivery while this one runs
        seen.append(info.value)
        with pytest.raises(IdempotencyKeyConflict):
            charge({**order, "amount": 99})  # a different payload: no retry will help
        return "done"

    assert charge({"order_id": 1}) == "done"
    (error,) = seen
    assert isinstance(error, IdempotencyInProgress)
    assert error.retryable
    assert error.code == "IdempotencyInProgress"
    assert error.retry_after_seconds == 30
    assert charge({"order_id": 1}) == "done"


def test_a_handler_exception_removes_the_record_and_propagates(client: Client) -> None:
    attempts: list[int] = []

    @idempotent(key="order_id", client=client, namespace="charge")
    def charge(order: dict[str, Any]) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("payment provider down")
        return "charged"

    with pytest.raises(ConnectionError, match="payment provider down"):
        charge({"order_id": 1})
    assert _record(client, "charge:1") is None
    assert charge({"order_id": 1}) == "charged"
    assert charge({"order_id": 1}) == "charged"
    assert len(attempts) == 2


def test_a_result_that_is_not_json_is_refused_and_nothing_is_stored(client: Client) -> None:
    runs: list[int] = []

    @idempotent(key="id", client=client, namespace="odd")
    def handler(payload: dict[str, Any]) -> object:
        runs.append(1)
        return {"when": object()}

    with pytest.raises(IdempotencyResultNotSerializable, match="not JSON-serializable"):
        handler({"id": 1})
    assert _record(client, "odd:1") is None
    with pytest.raises(IdempotencyResultNotSerializable):
        handler({"id": 1})
    assert len(runs) == 2


def test_nan_is_not_a_json_result(client: Client) -> None:
    handler = idempotent(key="id", client=client)(lambda payload: float("nan"))
    with pytest.raises(IdempotencyResultNotSerializable):
        handler({"id": 1})


# -- expiry (the client's clock) ---------------------------------------------------------


def test_a_completed_record_lives_until_its_expiry_then_runs_again(
    client: Client, clock: FakeClock
) -> None:
    handler = Recorder()
    charge = idempotent(key="order_id", client=client, expires_seconds=100)(handler)
    charge({"order_id": 1})
    clock.advance(99.999)
    assert charge({"order_id": 1}) == {"charged": True, "run": 1}
    clock.advance(0.001)
    assert charge({"order_id": 1}) == {"charged": True, "run": 2}
    assert len(handler.calls) == 2


def test_an_expired_record_is_replaced_even_for_a_different_payload(
    client: Client, clock: FakeClock
) -> None:
    handler = Recorder()
    charge = idempotent(key="order_id", client=client, expires_seconds=10)(handler)
    charge({"order_id": 1, "amount": 5})
    clock.advance(10)
    charge({"order_id": 1, "amount": 6})
    assert [call["amount"] for call in handler.calls] == [5, 6]
    with pytest.raises(IdempotencyKeyConflict):
        charge({"order_id": 1, "amount": 5})


def test_the_expiry_counts_from_the_end_of_the_run(client: Client, clock: FakeClock) -> None:
    @idempotent(key="id", client=client, expires_seconds=100, namespace="slow")
    def slow(payload: dict[str, Any]) -> str:
        clock.advance(30)
        return "ok"

    start_ms = client.now_ms()
    slow({"id": 1})
    record = _record(client, "slow:1")
    assert record is not None
    assert record.created_at_ms == start_ms
    assert record.expires_at_ms == start_ms + 130_000


def test_a_crashed_run_is_taken_over_after_its_in_progress_expiry(
    client: Client, clock: FakeClock
) -> None:
    payload = {"order_id": 5}
    now_ms = client.now_ms()
    with client.store.database.write() as conn:  # type: ignore[attr-defined]
        # A worker wrote IN_PROGRESS and died: nobody will complete or release it.
        records.begin(conn, "charge:5", payload_hash(payload), now_ms, now_ms + 60_000)
    handler = Recorder()
    charge = idempotent(key="order_id", client=client, namespace="charge")(handler)

    with pytest.raises(IdempotencyInProgress):
        charge(payload)
    clock.advance(59.999)
    with pytest.raises(IdempotencyInProgress) as info:
        charge(payload)
    assert info.value.retry_after_seconds == 1
    clock.advance(0.001)
    assert charge(payload) == {"charged": True, "run": 1}
    record = _record(client, "charge:5")
    assert record is not None
    assert record.status == "COMPLETED"


def test_a_run_that_was_taken_over_leaves_its_successors_record_alone(
    client: Client, clock: FakeClock
) -> None:
    database = client.store.database  # type: ignore[attr-defined]
    now_ms = client.now_ms()
    with database.write() as conn:
        old = records.begin(conn, "k", "h", now_ms, now_ms + 1000)
    with database.write() as conn:
        new = records.begin(conn, "k", "h", now_ms + 1000, now_ms + 2000)
        assert not records.complete(conn, old, '"old"', now_ms + 9000)
        assert not records.release(conn, old)
        assert records.complete(conn, new, '"new"', now_ms + 9000)
    record = _record(client, "k")
    assert record is not None
    assert (record.status, record.result) == ("COMPLETED", '"new"')


def test_a_run_whose_record_was_swept_still_records_its_result(client: Client) -> None:
    database = client.store.database  # type: ignore[attr-defined]
    now_ms = client.now_ms()
    with database.write() as conn:
        started = records.begin(conn, "k", "h", now_ms, now_ms + 1000)
        assert records.sweep_expired(conn, now_ms + 1000) == 1
        assert records.complete(conn, started, "1", now_ms + 5000)
    record = _record(client, "k")
    assert record is not None
    assert (record.status, record.result, record.expires_at_ms) == ("COMPLETED", "1", now_ms + 5000)


def test_sweep_deletes_only_expired_records(client: Client, clock: FakeClock) -> None:
    short = idempotent(key="id", client=client, expires_seconds=10, namespace="short")(Recorder())
    long = idempotent(key="id", client=client, expires_seconds=1000, namespace="long")(Recorder())
    short({"id": 1})
    long({"id": 1})
    clock.advance(10)
    assert sweep_expired(client) == 1
    assert _record(client, "short:1") is None
    assert _record(client, "long:1") is not None


def test_calls_sweep_expired_records_now_and_then(client: Client, clock: FakeClock) -> None:
    handler = idempotent(key="id", client=client, expires_seconds=1)(Recorder())
    for number in range(5):
        handler({"id": number})
    clock.advance(120)
    handler({"id": "fresh"})
    assert _count_records(client) == 1


# -- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "payload", "stored"),
    [
        ("order_id", {"order_id": "A-1"}, "A-1"),
        ("order_id", {"order_id": 12}, "12"),
        ("detail.order.id", {"detail": {"order": {"id": "o-9"}}}, "o-9"),
        ("items.1.sku", {"items": [{"sku": "a"}, {"sku": "b"}]}, "b"),
        ("$.detail.order.id", {"detail": {"order": {"id": "o-9"}}}, "o-9"),
        ("$.items[0].sku", {"items": [{"sku": "x"}]}, "x"),
        ("$.items[*].sku", {"items": [{"sku": "x"}, {"sku": "y"}]}, '["x","y"]'),
        ("customer", {"customer": {"b": 2, "a": 1}}, '{"a":1,"b":2}'),
        (lambda p: f"{p['tenant']}/{p['id']}", {"tenant": "t", "id": 3}, "t/3"),
    ],
)
def test_key_expressions(client: Client, key: Any, payload: dict[str, Any], stored: str) -> None:
    handler = idempotent(key=key, client=client, namespace="ns")(Recorder())
    handler(payload)
    handler(payload)
    assert _record(client, f"ns:{stored}") is not None
    assert _count_records(client) == 1


@pytest.mark.parametrize(
    ("key", "payload", "found"),
    [
        ("order_id", {"amount": 1}, "is missing"),
        ("order_id", {"order_id": None}, "is None"),
        ("order_id", {"order_id": ""}, "is ''"),
        ("detail.order.id", {"detail": {"order": "flat"}}, "is missing"),
        ("items.5", {"items": [1]}, "is missing"),
        ("$.detail.id", {"detail": None}, "is missing"),
        ("$.items[*].sku", {"items": []}, "is []"),
        (lambda p: p["order_id"], {"amount": 1}, "is missing"),
        (lambda p: None, {"amount": 1}, "is None"),
    ],
)
def test_a_key_that_resolves_to_nothing_raises_and_the_handler_does_not_run(
    client: Client, key: Any, payload: dict[str, Any], found: str
) -> None:
    handler = Recorder()
    decorated = idempotent(key=key, client=client)(handler)
    with pytest.raises(IdempotencyKeyMissing, match="handler was not run") as info:
        decorated(payload)
    assert found in str(info.value)
    assert "the payload's fields" in str(info.value)
    assert handler.calls == []
    assert _count_records(client) == 0


def test_the_missing_key_message_names_the_expression(client: Client) -> None:
    decorated = idempotent(key="$.detail.order.id", client=client)(Recorder())
    with pytest.raises(IdempotencyKeyMissing, match=r"'\$\.detail\.order\.id' is missing"):
        decorated({"detail": {}})


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "field path"),
        (42, "field path"),
        ("a..b", "empty field name"),
        ("$..id", "deep scan"),
        ("$['id']", "brackets"),
    ],
)
def test_bad_key_expressions_are_refused_when_decorating(key: Any, message: str) -> None:
    with pytest.raises(eventyard.InvalidParameterValue, match=message):
        idempotent(key=key)


def test_a_key_function_must_give_a_string_or_json(client: Client) -> None:
    decorated = idempotent(key=lambda p: object(), client=client)(Recorder())
    with pytest.raises(eventyard.InvalidParameterValue, match=r"return str\(value\)"):
        decorated({"id": 1})


def test_the_namespace_defaults_to_the_qualified_name_and_separates_functions(
    client: Client,
) -> None:
    def charge(order: dict[str, Any]) -> str:
        return "charged"

    def ship(order: dict[str, Any]) -> str:
        return "shipped"

    decorated_charge = idempotent(key="order_id", client=client)(charge)
    decorated_ship = idempotent(key="order_id", client=client)(ship)
    assert decorated_charge({"order_id": 1}) == "charged"
    assert decorated_ship({"order_id": 1}) == "shipped"
    assert _record(client, f"{charge.__qualname__}:1") is not None
    assert _record(client, f"{ship.__qualname__}:1") is not None
    assert decorated_charge.idempotency.namespace == charge.__qualname__  # type: ignore[attr-defined]
    assert decorated_charge.__name__ == "charge"


# -- payloads -----------------------------------------------------------------------------


def test_a_message_gives_its_json_body(client: Client) -> None:
    queue = client.create_queue("orders")
    queue.send({"order_id": 1, "amount": 3})
    queue.send({"order_id": 1, "amount": 3})  # the producer sent it twice
    handler = Recorder()
    process = idempotent(key="order_id", client=client)(handler)
    for message in queue.receive(max_messages=10):
        process(message)
    assert [payload_of(call) for call in handler.calls] == [{"order_id": 1, "amount": 3}]


def test_a_text_body_holding_json_is_decoded(client: Client) -> None:
    queue = client.create_queue("text")
    queue.send('{"order_id": 2}')
    (message,) = queue.receive()
    handler = Recorder()
    idempotent(key="order_id", client=client)(handler)(message)
    assert [payload_of(call) for call in handler.calls] == [{"order_id": 2}]


def test_a_plain_text_body_needs_a_key_function(client: Client) -> None:
    class Item:
        body = "order 3"

    with pytest.raises(IdempotencyKeyMissing):
        idempotent(key="order_id", client=client)(Recorder())(Item())
    handler = Recorder()
    by_text = idempotent(key=lambda text: text.split()[1], client=client)(handler)
    by_text(Item())
    by_text(Item())
    assert [payload_of(call) for call in handler.calls] == ["order 3"]


def test_a_binary_body_is_hashed_as_bytes(client: Client) -> None:
    class Item:
        def __init__(self, body: bytes) -> None:
            self.body = body

    handler = Recorder()
    decorated = idempotent(key=lambda data: data[:1].hex(), client=client)(handler)
    decorated(Item(b"\xff\x00"))
    decorated(Item(b"\xff\x00"))
    with pytest.raises(IdempotencyKeyConflict):
        decorated(Item(b"\xff\x01"))
    assert [payload_of(call) for call in handler.calls] == [b"\xff\x00"]


def test_an_sns_envelope_from_a_topic_gives_its_message(client: Client) -> None:
    queue = client.create_queue("inventory")
    topic = client.create_topic("orders")
    topic.subscribe(queue)
    topic.publish({"order_id": 4})
    topic.publish({"order_id": 4})  # two notifications: different envelopes, same message
    handler = Recorder()
    process = idempotent(key="order_id", client=client)(handler)
    for message in queue.receive(max_messages=10):
        assert message.body["Type"] == "Notification"
        process(message)
    assert [payload_of(call) for call in handler.calls] == [{"order_id": 4}]


def test_lambda_sqs_and_sns_record_dicts_give_their_body(client: Client) -> None:
    handler = Recorder()
    process = idempotent(key="order_id", client=client)(handler)
    sqs_record = {"messageId": "m1", "eventSource": "aws:sqs", "body": '{"order_id": 5}'}
    sns_record = {"EventSource": "aws:sns", "Sns": {"Message": '{"order_id": 5}'}}
    process(sqs_record)
    process({**sqs_record, "messageId": "m2"})
    process(sns_record)
    assert handler.calls == [sqs_record]
    assert payload_of(sns_record) == {"order_id": 5}


def test_an_eventbridge_event_dict_is_the_payload(client: Client) -> None:
    handler = Recorder()
    process = idempotent(key="detail.order.id", client=client)(handler)
    event = {"source": "shop", "detail-type": "Order", "detail": {"order": {"id": 8}}}
    process(event)
    process(event)
    assert len(handler.calls) == 1


def test_a_payload_that_is_not_json_is_refused(client: Client) -> None:
    decorated = idempotent(key="id", client=client)(Recorder())
    with pytest.raises(eventyard.InvalidParameterValue, match="cannot be hashed"):
        decorated({"id": 1, "when": object()})


def test_the_payload_is_the_first_positional_argument(client: Client) -> None:
    @idempotent(key="id", client=client)
    def handler(event: dict[str, Any], context: object = None) -> str:
        return "ok"

    assert handler({"id": 1}, object()) == "ok"
    with pytest.raises(TypeError, match="first positional argument"):
        handler(event={"id": 1})


# -- clients and options ------------------------------------------------------------------


def test_without_a_client_the_call_says_how_to_give_one() -> None:
    decorated = idempotent(key="id")(Recorder())
    with pytest.raises(eventyard.MissingParameter, match="set_default_client"):
        decorated({"id": 1})


def test_the_default_client_and_a_client_function(client: Client) -> None:
    handler = Recorder()
    decorated = idempotent(key="id")(handler)
    set_default_client(client)
    decorated({"id": 1})
    set_default_client(lambda: client)
    decorated({"id": 1})
    by_function = idempotent(key="id", client=lambda: client, namespace="f")(handler)
    by_function({"id": 1})
    assert len(handler.calls) == 2


def test_a_client_function_must_return_a_client() -> None:
    decorated = idempotent(key="id", client=lambda: "nope")(Recorder())  # type: ignore[arg-type]
    with pytest.raises(eventyard.InvalidParameterValue, match="not an eventyard Client"):
        decorated({"id": 1})


@pytest.mark.parametrize(
    "options",
    [
        {"expires_seconds": 0},
        {"expires_seconds": -1},
        {"expires_seconds": float("nan")},
        {"in_progress_expiry_seconds": True},
        {"in_progress_expiry_seconds": "60"},
        {"client": 42},
    ],
)
def test_bad_options_are_refused_when_decorating(options: dict[str, Any]) -> None:
    with pytest.raises(eventyard.InvalidParameterValue):
        idempotent(key="id", **options)


@pytest.mark.parametrize("namespace", ["", "a:b"])
def test_bad_namespaces_are_refused(namespace: str) -> None:
    with pytest.raises(eventyard.InvalidParameterValue, match="namespace"):
        idempotent(key="id", namespace=namespace)(Recorder())


def test_async_functions_are_refused() -> None:
    async def handler(payload: dict[str, Any]) -> None:
        return None

    with pytest.raises(eventyard.InvalidParameterValue, match="async"):
        idempotent(key="id")(handler)


def test_the_errors_are_eventyard_errors_with_codes() -> None:
    for error, retryable in [
        (IdempotencyKeyConflict, False),
        (IdempotencyInProgress, True),
        (IdempotencyKeyMissing, False),
        (IdempotencyResultNotSerializable, False),
    ]:
        assert issubclass(error, eventyard.EventyardError)
        assert error.code == error.__name__
        assert error.retryable is retryable


# -- inside a transaction -----------------------------------------------------------------


@pytest.fixture
def shop(client: Client) -> Client:
    with client.transaction() as tx:
        tx.execute("CREATE TABLE payments (order_id INTEGER PRIMARY KEY, amount INTEGER)")
    return client


def _payments(client: Client) -> int:
    with client.store.database.read() as conn:  # type: ignore[attr-defined]
        return int(conn.execute("SELECT count(*) FROM payments").fetchone()[0])


def _charge_in(client: Client) -> Callable[[eventyard.Transaction, dict[str, Any]], Any]:
    """A handler whose effect is a row written in the caller's transaction."""

    def charge(order: dict[str, Any], tx: eventyard.Transaction) -> dict[str, Any]:
        tx.execute(
            "INSERT INTO payments (order_id, amount) VALUES (?, ?)",
            (order["order_id"], order["amount"]),
        )
        return {"paid": order["amount"]}

    decorated = idempotent(key="order_id", client=client, namespace="charge")(charge)
    return lambda tx, order: decorated(order, tx)


def test_the_effect_and_its_record_commit_together(shop: Client) -> None:
    charge = _charge_in(shop)
    with shop.transaction() as tx:
        assert charge(tx, {"order_id": 1, "amount": 10}) == {"paid": 10}
    assert _payments(shop) == 1
    record = _record(shop, "charge:1")
    assert record is not None
    assert record.status == "COMPLETED"
    with shop.transaction() as tx:  # redelivered: no second row, the stored result
        assert charge(tx, {"order_id": 1, "amount": 10}) == {"paid": 10}
    assert _payments(shop) == 1


def test_a_rollback_removes_the_effect_and_its_record(shop: Client) -> None:
    charge = _charge_in(shop)
    inside: list[object] = []

    def checkout() -> None:
        with shop.transaction() as tx:
            charge(tx, {"order_id": 1, "amount": 10})
            inside.append(_record(shop, "charge:1"))  # visible inside the transaction
            raise RuntimeError("crash after the charge")

    with pytest.raises(RuntimeError, match="crash after the charge"):
        checkout()
    assert inside[0] is not None
    assert _payments(shop) == 0
    assert _record(shop, "charge:1") is None
    with shop.transaction() as tx:  # the retry runs it again, for real this time
        charge(tx, {"order_id": 1, "amount": 10})
    assert _payments(shop) == 1


def test_a_handler_failure_inside_a_transaction_releases_the_key(shop: Client) -> None:
    @idempotent(key="order_id", client=shop, namespace="fail")
    def fail(order: dict[str, Any]) -> None:
        raise ValueError("card declined")

    with shop.transaction() as tx:
        tx.execute("INSERT INTO payments (order_id, amount) VALUES (99, 1)")
        with pytest.raises(ValueError, match="card declined"):
            fail({"order_id": 1})
    assert _record(shop, "fail:1") is None
    assert _payments(shop) == 1  # the transaction itself went on and committed


# -- concurrency --------------------------------------------------------------------------


def test_two_threads_with_the_same_key_run_it_once(live_client: Client) -> None:
    runs: list[str] = []
    other_refused = threading.Event()
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    @idempotent(key="order_id", client=live_client)
    def charge(order: dict[str, Any]) -> str:
        runs.append(threading.current_thread().name)
        # Hold the key until the other thread has been turned away.
        assert other_refused.wait(20)
        return "charged"

    def deliver() -> None:
        name = threading.current_thread().name
        barrier.wait()
        try:
            outcomes[name] = charge({"order_id": 1})
        except IdempotencyInProgress as exc:
            outcomes[name] = exc
            other_refused.set()

    threads = [threading.Thread(target=deliver, name=f"worker-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(runs) == 1
    assert sorted(type(value).__name__ for value in outcomes.values()) == [
        "IdempotencyInProgress",
        "str",
    ]
    assert outcomes[runs[0]] == "charged"
    assert charge({"order_id": 1}) == "charged"
    assert len(runs) == 1


def test_many_threads_with_the_same_key_never_run_it_twice(live_client: Client) -> None:
    runs: list[int] = []
    lock = threading.Lock()

    @idempotent(key="order_id", client=live_client)
    def charge(order: dict[str, Any]) -> int:
        with lock:
            runs.append(1)
        return 1

    def deliver() -> None:
        for _ in range(20):
            with contextlib.suppress(IdempotencyInProgress):
                charge({"order_id": 1})

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(runs) == 1


# -- the property --------------------------------------------------------------------------

_namespaces = itertools.count()
_calls = st.tuples(
    st.just("call"), st.sampled_from(["a", "b", "c"]), st.integers(0, 2), st.booleans()
)
_advances = st.tuples(st.just("advance"), st.integers(0, 150))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.one_of(_calls, _calls, _advances), max_size=30))
def test_the_handler_runs_at_most_once_per_key_and_payload_while_records_live(
    client: Client, clock: FakeClock, steps: list[tuple[Any, ...]]
) -> None:
    """Random calls (keys, payloads, failures) and clock moves against a reference model."""
    expires_ms = 100_000
    executed: list[tuple[str, int]] = []
    # The model: key -> (payload, expires at) of the live COMPLETED record.
    live: dict[str, tuple[tuple[int, bool], int]] = {}
    runs_per_window: Counter[tuple[str, int, int]] = Counter()

    def handler(payload: dict[str, Any]) -> dict[str, Any]:
        executed.append((payload["key"], payload["value"]))
        if payload["fail"]:
            raise RuntimeError("boom")
        return {"value": payload["value"]}

    decorated = idempotent(
        key="key",
        client=client,
        expires_seconds=expires_ms / 1000,
        namespace=f"p{next(_namespaces)}",
    )(handler)

    for step in steps:
        if step[0] == "advance":
            clock.advance(step[1])
            continue
        _, key, value, fail = step
        payload = {"key": key, "value": value, "fail": fail}
        now_ms = client.now_ms()
        before = len(executed)
        record = live.get(key)
        if record is not None and now_ms >= record[1]:
            del live[key]
            record = None
        if record is not None and record[0] != (value, fail):
            with pytest.raises(IdempotencyKeyConflict):
                decorated(payload)
            assert len(executed) == before
        elif record is not None:
            assert decorated(payload) == {"value": value}
            assert len(executed) == before  # the stored result, the handler not run
        elif fail:
            with pytest.raises(RuntimeError, match="boom"):
                decorated(payload)
            assert len(executed) == before + 1
        else:
            assert decorated(payload) == {"value": value}
            assert len(executed) == before + 1
            live[key] = ((value, fail), now_ms + expires_ms)
        if len(executed) > before and not fail:
            runs_per_window[(key, value, live[key][1])] += 1
    assert all(count == 1 for count in runs_per_window.values())
