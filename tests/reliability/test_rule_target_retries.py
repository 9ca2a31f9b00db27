"""Event-bus webhook targets that keep failing: their retry budget, their backoff, their age limit.

The client runs on a `FakeClock` and the dispatcher is driven by hand with
``run_once``: the delivery records' visibility timeouts (the backoff) follow
the fake clock, so hours of retries take no real time. The endpoint is a
real HTTP server that notes the fake time of every request it gets.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from http_servers import HookServer, Request, delivery_records
from tests_support import FakeClock

import eventyard
from eventyard import Client
from eventyard.broker.dispatcher import BACKOFF_CAP_SECONDS, Dispatcher

ORDER = {"source": "shop", "detail_type": "OrderPlaced"}
STEP_LIMIT = 5_000  # run_once calls before a test gives up


class Endpoint(HookServer):
    """A `HookServer` that answers ``status`` and notes the fake time of each request."""

    def __init__(self, clock: FakeClock, status: int | Callable[[int], int]) -> None:
        self.times: list[float] = []
        answer = status if callable(status) else (lambda attempt: status)

        def respond(request: Request, earlier: int) -> int:
            self.times.append(clock.now)
            return answer(earlier)

        super().__init__(respond)


@pytest.fixture
def dlq(client: Client) -> eventyard.Queue:
    return client.create_queue("target-dlq")


@pytest.fixture
def dispatcher(client: Client) -> Iterator[Dispatcher]:
    dispatcher = client.dispatcher()
    yield dispatcher
    dispatcher.stop()


def drive(
    dispatcher: Dispatcher,
    clock: FakeClock,
    done: Callable[[], bool],
    step_seconds: float,
) -> None:
    """run_once, then move the fake clock on by ``step_seconds``, until ``done()``."""
    for _ in range(STEP_LIMIT):
        dispatcher.run_once()
        if done():
            return
        clock.advance(step_seconds)
    raise AssertionError(f"not done after {STEP_LIMIT} dispatcher rounds")


def put_order(client: Client) -> str:
    [result] = client.bus().put_events([{**ORDER, "detail": {"id": 1}}])
    assert result.event_id is not None
    return result.event_id


@pytest.mark.parametrize("max_attempts", [0, 1, 4])
def test_a_failing_target_gets_exactly_its_retry_budget_then_its_dlq(
    client: Client,
    clock: FakeClock,
    dlq: eventyard.Queue,
    dispatcher: Dispatcher,
    database_url: str,
    max_attempts: int,
) -> None:
    with Endpoint(clock, 503) as endpoint:
        rule = client.bus().put_rule("orders", pattern={"source": ["shop"]})
        rule.add_target(endpoint.url(), max_attempts=max_attempts, dead_letter_queue=dlq)
        event_id = put_order(client)
        # Each step is past the longest possible backoff: every round makes an attempt.
        drive(dispatcher, clock, lambda: dlq.stats().visible > 0, BACKOFF_CAP_SECONDS + 1)
        assert endpoint.count() == max_attempts + 1
        for _ in range(3):  # and nothing more, however long one waits
            clock.advance(BACKOFF_CAP_SECONDS + 1)
            dispatcher.run_once()
        assert endpoint.count() == max_attempts + 1
    [dead] = dlq.receive(10)
    assert dead.body["id"] == event_id  # type: ignore[index]
    assert dead.attributes == {
        "ERROR_CODE": "HttpStatus503",
        "ERROR_MESSAGE": dead.attributes["ERROR_MESSAGE"],
        "RULE_ARN": rule.arn,
        "TARGET_ARN": endpoint.url(),
        "RETRY_ATTEMPTS": max_attempts,
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttemptsExceeded",
    }
    assert "503" in str(dead.attributes["ERROR_MESSAGE"])
    assert delivery_records(database_url) == 0
    assert (dispatcher.failed_attempts, dispatcher.dead_lettered) == (max_attempts + 1, 1)


def test_retries_back_off_exponentially_with_jitter_up_to_five_minutes(
    client: Client, clock: FakeClock, dlq: eventyard.Queue, dispatcher: Dispatcher
) -> None:
    retries = 11  # ceilings 1, 2, 4 ... 256, then capped at 300, 300
    with Endpoint(clock, 503) as endpoint:
        rule = client.bus().put_rule("orders", pattern={"source": ["shop"]})
        rule.add_target(endpoint.url(), max_attempts=retries, dead_letter_queue=dlq)
        put_order(client)
        drive(dispatcher, clock, lambda: dlq.stats().visible > 0, 1)  # 1 s resolution
        times = list(endpoint.times)
    assert len(times) == retries + 1
    gaps = [round(b - a) for a, b in itertools.pairwise(times)]
    ceilings = [min(2**attempt, BACKOFF_CAP_SECONDS) for attempt in range(retries)]
    for gap, ceiling in zip(gaps, ceilings, strict=True):
        # Each delay is drawn between half and all of its ceiling (rounded to whole seconds).
        assert max(1, round(ceiling / 2)) <= gap <= ceiling, (gaps, ceilings)
    assert gaps[-1] <= BACKOFF_CAP_SECONDS
    big = [(gap, ceiling) for gap, ceiling in zip(gaps, ceilings, strict=True) if ceiling >= 16]
    assert any(gap < ceiling for gap, ceiling in big), f"no jitter in {gaps}"


def test_429_is_retried_and_other_client_errors_go_to_the_dlq_at_once(
    client: Client, clock: FakeClock, dlq: eventyard.Queue, dispatcher: Dispatcher
) -> None:
    with (
        Endpoint(clock, lambda attempt: 429 if attempt < 2 else 200) as throttled,
        Endpoint(clock, 400) as rejecting,
    ):
        rule = client.bus().put_rule("orders", pattern={"source": ["shop"]})
        rule.add_target(throttled.url(), id="throttled", max_attempts=5, dead_letter_queue=dlq)
        rule.add_target(rejecting.url(), id="rejecting", max_attempts=5, dead_letter_queue=dlq)
        event_id = put_order(client)
        drive(dispatcher, clock, lambda: throttled.count() == 3, BACKOFF_CAP_SECONDS + 1)
        for _ in range(3):
            clock.advance(BACKOFF_CAP_SECONDS + 1)
            dispatcher.run_once()
        assert (throttled.count(), rejecting.count()) == (3, 1)
        [dead] = dlq.receive(10)
    assert dead.body["id"] == event_id  # type: ignore[index]
    assert dead.attributes["ERROR_CODE"] == "HttpStatus400"
    assert dead.attributes["TARGET_ARN"] == rejecting.url()
    assert dead.attributes["RETRY_ATTEMPTS"] == 0
    assert dead.attributes["EXHAUSTED_RETRY_CONDITION"] == "NonRetryableError"
    assert dispatcher.delivered == 1


def test_max_event_age_stops_the_retries(
    client: Client, clock: FakeClock, dlq: eventyard.Queue, dispatcher: Dispatcher
) -> None:
    max_age = 60  # the smallest allowed
    with Endpoint(clock, 503) as endpoint:
        rule = client.bus().put_rule("orders", pattern={"source": ["shop"]})
        rule.add_target(
            endpoint.url(), max_event_age_seconds=max_age, dead_letter_queue=dlq
        )  # max_attempts: the default 185, never reached here
        put_at = clock.now
        put_order(client)
        drive(dispatcher, clock, lambda: dlq.stats().visible > 0, 1)
        ages = [at - put_at for at in endpoint.times]
        for _ in range(3):
            clock.advance(BACKOFF_CAP_SECONDS + 1)
            dispatcher.run_once()
        assert len(endpoint.times) == len(ages)
    assert ages[0] == 0
    assert all(age <= max_age for age in ages), ages
    # Backoff 1, 1-2, 2-4, 4-8, 8-16, 16-32, 32-64 s: within 60 s, 6 or 7 attempts fit.
    assert 6 <= len(ages) <= 7, ages
    [dead] = dlq.receive(10)
    assert dead.attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeExceeded"
    assert dead.attributes["RETRY_ATTEMPTS"] == len(ages) - 1
    assert dead.attributes["ERROR_CODE"] == "HttpStatus503"


def test_an_event_older_than_its_max_age_is_not_posted_again(
    client: Client, clock: FakeClock, dlq: eventyard.Queue, dispatcher: Dispatcher
) -> None:
    with Endpoint(clock, 503) as endpoint:
        rule = client.bus().put_rule("orders", pattern={"source": ["shop"]})
        rule.add_target(endpoint.url(), max_event_age_seconds=60, dead_letter_queue=dlq)
        put_order(client)
        dispatcher.run_once()  # fails; the retry is due in 1 s
        assert endpoint.count() == 1
        clock.advance(3600)  # the dispatcher was down for an hour
        dispatcher.run_once()
        assert endpoint.count() == 1, "posted an event 3600 s old (max_event_age_seconds=60)"
        [dead] = dlq.receive(10)
    assert dead.attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeExceeded"
