"""The admin API on a real uvicorn (loopback) with httpx: every route, bad input, the OpenAPI
document. Authentication and CSRF are in test_admin_security.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from admin_server import TOKEN, Admin, build_world, serving
from starlette.routing import Mount, Route

import eventyard
from eventyard.admin.api import ROUTES
from eventyard.admin.auth import SessionKeys
from eventyard.admin.surface import admin_routes
from eventyard.runtime.specs import RouteSpec


@pytest.fixture
def world(tmp_path: Path) -> Iterator[eventyard.Client]:
    with eventyard.connect(f"sqlite:///{tmp_path}/admin.db", durability="process") as client:
        build_world(client)
        yield client


@pytest.fixture
def admin(world: eventyard.Client) -> Iterator[Admin]:
    with serving(world) as live:
        yield live


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def _error(response: Any, status: int, code: str, *words: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    for word in words:
        assert word in body["message"], body
    return str(body["message"])


# -- queues ----------------------------------------------------------------------


def test_queues_are_listed_with_their_counts_and_internal_queues_hidden(admin: Admin) -> None:
    queues = {q["name"]: q for q in _ok(admin.http.get("/admin/api/queues"))["queues"]}
    assert sorted(queues) == ["jobs.fifo", "orders", "orders-dlq"]
    orders, dlq = queues["orders"], queues["orders-dlq"]
    assert orders["visible"] == 1
    assert orders["in_flight"] == 0
    assert orders["delayed"] == 0
    assert orders["dead_letter_queue"] == "orders-dlq"
    assert orders["max_receive_count"] == 1
    assert orders["dlq_depth"] == 3
    assert orders["is_dlq"] is False
    assert orders["counters"] == {
        "sent": 4,
        "received": 3,
        "deleted": 0,
        "dead_lettered": 3,
        "purged": 0,
    }
    assert orders["oldest_age_seconds"] is not None
    assert dlq["is_dlq"] is True
    assert dlq["dlq_depth"] is None
    assert dlq["visible"] == 3
    assert queues["jobs.fifo"]["fifo"] is True


def test_one_queue(admin: Admin) -> None:
    dlq = _ok(admin.http.get("/admin/api/queues/orders-dlq"))
    assert dlq["dead_letter_sources"] == ["orders"]
    assert dlq["attributes"]["visibility_timeout"] == 30
    assert dlq["redrive_tasks"] == []
    _error(admin.http.get("/admin/api/queues/nope"), 404, "QueueDoesNotExist", "nope")
    _error(admin.http.get("/admin/api/queues/eventyard:deliveries"), 404, "QueueDoesNotExist")
    _error(admin.http.get("/admin/api/queues/eventyard:fn:mailer"), 404, "QueueDoesNotExist")


def test_peeking_pages_through_messages_with_their_failures_and_changes_nothing(
    admin: Admin,
) -> None:
    before = admin.client.get_queue("orders-dlq").stats().visible
    first = _ok(admin.http.get("/admin/api/queues/orders-dlq/messages", params={"limit": 2}))
    assert first["queue"] == "orders-dlq"
    assert len(first["messages"]) == 2
    message = first["messages"][0]
    assert message["body"] == {"order": 0}
    assert message["body_type"] == "json"
    assert message["attributes"] == {"kind": "book"}
    assert message["receive_count"] == 1
    assert message["state"] == "visible"
    assert message["dead_letter_source_queue"] == "orders"
    assert message["system_attributes"]["ApproximateReceiveCount"] == "1"
    assert [f["error_type"] for f in message["failures"]] == ["OutOfPaper"]
    assert message["failures"][0]["error_message"] == "<no paper>"  # JSON: the page escapes
    rest = _ok(
        admin.http.get(
            "/admin/api/queues/orders-dlq/messages",
            params={"limit": 2, "page_token": first["next_page_token"]},
        )
    )
    assert [m["body"] for m in rest["messages"]] == [{"order": 2}]
    assert rest["next_page_token"] is None
    assert admin.client.get_queue("orders-dlq").stats().visible == before
    assert admin.client.get_queue("orders-dlq").counters().received == 0

    url = "/admin/api/queues/orders-dlq/messages"
    _error(admin.http.get(url, params={"page_token": "garbage"}), 400, "InvalidParameterValue")
    other = _ok(admin.http.get("/admin/api/queues/orders/messages", params={"limit": 1}))
    assert other["next_page_token"] is None
    foreign = first["next_page_token"]
    _error(
        admin.http.get("/admin/api/queues/orders/messages", params={"page_token": foreign}),
        400,
        "InvalidParameterValue",
        "another queue",
    )
    for bad in ("0", "101", "ten", "-1"):
        _error(admin.http.get(url, params={"limit": bad}), 400, "InvalidParameterValue", "limit")
    _error(admin.http.get("/admin/api/queues/nope/messages"), 404, "QueueDoesNotExist")


def test_send_delete_and_purge(admin: Admin) -> None:
    sent = _ok(
        admin.http.post(
            "/admin/api/queues/jobs.fifo/messages",
            json={"body": "<b>hi</b>", "group_id": "g", "deduplication_id": "d1"},
        ),
        201,
    )
    peeked = _ok(admin.http.get("/admin/api/queues/jobs.fifo/messages"))["messages"]
    assert [(m["message_id"], m["body"], m["body_type"]) for m in peeked] == [
        (sent["message_id"], "<b>hi</b>", "text")
    ]
    url = f"/admin/api/queues/jobs.fifo/messages/{sent['message_id']}"
    assert _ok(admin.http.delete(url)) == {"queue": "jobs.fifo", "message_id": sent["message_id"]}
    _error(admin.http.delete(url), 404, "MessageNotFound")
    assert admin.client.get_queue("jobs.fifo").stats().total == 0

    assert _ok(admin.http.post("/admin/api/queues/orders/purge")) == {
        "queue": "orders",
        "purged": 1,
    }
    again = admin.http.post("/admin/api/queues/orders/purge", json={})
    _error(again, 503, "PurgeQueueInProgress", "60 s")  # retryable: 503 + Retry-After
    assert again.headers["retry-after"] == "1"
    _error(admin.http.post("/admin/api/queues/nope/purge"), 404, "QueueDoesNotExist")


def test_bad_bodies_are_refused_and_change_nothing(admin: Admin) -> None:
    url = "/admin/api/queues/orders/messages"
    before = admin.client.get_queue("orders").counters()
    post = admin.http.post
    _error(post(url, content=b"{not json"), 400, "MalformedJSON")
    _error(post(url, json={"body": "x", "colour": "red"}), 400, "InvalidRequest", "colour")
    _error(post(url, json={"body": "x", "delay_seconds": "5"}), 400, "InvalidRequest", "'5'")
    _error(post(url, json={}), 400, "InvalidRequest", "body: Field required")
    _error(post(url, json=[1, 2]), 400, "InvalidRequest")
    _error(post(url, json={"body": "x", "delay_seconds": 901}), 400, "InvalidParameterValue", "901")
    _error(post(url, json={"body": "x", "group_id": "g"}), 400, "InvalidParameterValue", "FIFO")
    _error(post("/admin/api/queues/nope/messages", json={"body": 1}), 404, "QueueDoesNotExist")
    big = b'{"body": "' + b"x" * (2 * 1_048_576) + b'"}'
    _error(post(url, content=big), 413, "RequestEntityTooLarge", "2097152")
    _error(post(url, json={"body": "x" * 1_048_577}), 400, "MessageTooLong", "max_message_bytes")
    _error(post("/admin/api/queues/orders/purge", json={"all": True}), 400, "InvalidRequest")
    assert admin.client.get_queue("orders").counters() == before
    assert admin.client.get_queue("orders").stats().visible == 1


def test_redrive_selected_messages(admin: Admin) -> None:
    page = _ok(admin.http.get("/admin/api/queues/orders-dlq/messages"))["messages"]
    chosen = page[0]["message_id"]
    result = _ok(
        admin.http.post(
            "/admin/api/queues/orders-dlq/redrive", json={"message_ids": [chosen, "nope"]}
        )
    )
    assert result["task"] is None
    assert result["results"][0] == {
        "message_id": chosen,
        "ok": True,
        "error": None,
        "message": None,
    }
    assert result["results"][1]["ok"] is False
    assert result["results"][1]["error"] == "MessageNotFound"
    assert admin.client.get_queue("orders").stats().visible == 2
    assert admin.client.get_queue("orders-dlq").stats().visible == 2
    _error(
        admin.http.post("/admin/api/queues/orders-dlq/redrive", json={"message_ids": []}),
        400,
        "InvalidRequest",
        "message_ids",
    )
    _error(
        admin.http.post(
            "/admin/api/queues/orders-dlq/redrive",
            json={"message_ids": [chosen], "max_messages_per_second": 5},
        ),
        400,
        "InvalidParameterValue",
        "max_messages_per_second",
    )


def test_redrive_everything_with_progress(admin: Admin) -> None:
    started = _ok(admin.http.post("/admin/api/queues/orders-dlq/redrive", json={}))
    task = started["task"]
    assert started["results"] is None
    assert task["source_queue"] == "orders-dlq"
    deadline = time.monotonic() + 20
    while True:
        progress = _ok(admin.http.get(f"/admin/api/redrives/{task['task_id']}"))
        if progress["status"] == "COMPLETED":
            break
        assert time.monotonic() < deadline, progress
        time.sleep(0.05)
    assert progress["moved"] == 3
    assert progress["to_move"] == 3
    assert admin.client.get_queue("orders").stats().visible == 4
    tasks = _ok(admin.http.get("/admin/api/queues/orders-dlq"))["redrive_tasks"]
    assert [t["task_id"] for t in tasks] == [task["task_id"]]
    _error(admin.http.get("/admin/api/redrives/no-such-task"), 404, "MoveTaskNotFound")


def test_redrive_to_a_missing_or_mismatched_queue_moves_nothing(admin: Admin) -> None:
    url = "/admin/api/queues/orders-dlq/redrive"
    _error(admin.http.post(url, json={"destination": "nowhere"}), 404, "QueueDoesNotExist")
    _error(
        admin.http.post(url, json={"destination": "jobs.fifo"}),
        400,
        "InvalidParameterValue",
        "jobs.fifo",
    )
    _error(
        admin.http.post(url, json={"message_ids": ["x"], "destination": "jobs.fifo"}),
        400,
        "InvalidParameterValue",
    )
    _error(
        admin.http.post(url, json={"destination": "eventyard:deliveries"}),
        404,
        "QueueDoesNotExist",
    )
    _error(admin.http.post("/admin/api/queues/nope/redrive", json={}), 404, "QueueDoesNotExist")
    _error(admin.http.post(url, json={"max_messages_per_second": 0}), 400, "InvalidParameterValue")
    assert admin.client.get_queue("orders-dlq").stats().visible == 3
    assert admin.client.redrive_tasks("orders-dlq") == []


# -- topics, buses, functions ------------------------------------------------------------


def test_topics_and_publishing(admin: Admin) -> None:
    topics = _ok(admin.http.get("/admin/api/topics"))["topics"]
    assert [(t["name"], t["fifo"]) for t in topics] == [("news", False)]
    [subscription] = topics[0]["subscriptions"]
    assert subscription["protocol"] == "sqs"
    assert subscription["endpoint"] == "orders"
    assert subscription["raw"] is True
    published = _ok(
        admin.http.post("/admin/api/topics/news/publish", json={"message": {"n": 1}}), 201
    )
    assert published["topic"] == "news"
    assert published["message_id"]
    assert admin.client.get_queue("orders").stats().visible == 2
    _error(
        admin.http.post("/admin/api/topics/nope/publish", json={"message": 1}),
        404,
        "TopicDoesNotExist",
    )
    _error(admin.http.post("/admin/api/topics/news/publish", json={}), 400, "InvalidRequest")


def test_buses_rules_and_events(admin: Admin) -> None:
    [bus] = _ok(admin.http.get("/admin/api/buses"))["buses"]
    assert bus["name"] == "default"
    assert bus["rules"] == 1
    assert [a["name"] for a in bus["archives"]] == ["everything"]
    rules = _ok(admin.http.get("/admin/api/buses/default/rules"))
    [rule] = rules["rules"]
    assert rule["name"] == "big"
    assert rule["state"] == "ENABLED"
    assert rule["pattern"] == {"detail": {"total": [{"numeric": [">", 100]}]}}
    assert [(t["id"], t["kind"], t["endpoint"]) for t in rule["targets"]] == [
        ("to-orders", "queue", "orders")
    ]
    orders = admin.client.get_queue("orders")
    event = {"source": "shop", "detail_type": "OrderPlaced", "detail": {"total": 500}}

    disabled = _ok(admin.http.post("/admin/api/buses/default/rules/big/disable"))
    assert disabled["state"] == "DISABLED"
    put = _ok(admin.http.post("/admin/api/buses/default/events", json={"entries": [event]}))
    assert put["failed_entry_count"] == 0
    assert put["entries"][0]["event_id"]
    assert orders.stats().visible == 1
    assert _ok(admin.http.post("/admin/api/buses/default/rules/big/enable"))["state"] == "ENABLED"
    _ok(admin.http.post("/admin/api/buses/default/events", json={"entries": [event]}))
    assert orders.stats().visible == 2

    bad_detail = {**event, "detail": "[1]"}
    put = _ok(admin.http.post("/admin/api/buses/default/events", json={"entries": [bad_detail]}))
    assert put["failed_entry_count"] == 1
    assert put["entries"][0]["error_code"] == "MalformedDetail"
    too_many = {"entries": [event] * 11}
    _error(admin.http.post("/admin/api/buses/default/events", json=too_many), 400, "InvalidRequest")
    _error(
        admin.http.post("/admin/api/buses/default/events", json={"entries": []}),
        400,
        "InvalidRequest",
    )
    _error(admin.http.get("/admin/api/buses/nope/rules"), 404, "BusDoesNotExist")
    _error(admin.http.post("/admin/api/buses/default/rules/nope/enable"), 404, "RuleDoesNotExist")
    assert orders.stats().visible == 2


def test_replays(admin: Admin) -> None:
    now = time.time()
    started = _ok(
        admin.http.post(
            "/admin/api/buses/default/replays",
            json={"name": "again", "archive": "everything", "start": now - 3600, "end": now - 1},
        ),
        202,
    )
    assert started["name"] == "again"
    assert started["status"] in ("STARTING", "RUNNING")
    assert _ok(admin.http.get("/admin/api/replays/again"))["archive"] == "everything"
    url = "/admin/api/buses/default/replays"
    _error(
        admin.http.post(url, json={"name": "x", "archive": "everything", "start": now, "end": 1}),
        400,
        "InvalidParameterValue",
        "before end",
    )
    _error(
        admin.http.post(
            url,
            json={
                "name": "y",
                "archive": "missing",
                "start": "2026-01-01T00:00:00Z",
                "end": "2026-01-02T00:00:00Z",
            },
        ),
        404,
        "ArchiveDoesNotExist",
    )
    _error(admin.http.post(url, json={"name": "z", "archive": "everything"}), 400, "InvalidRequest")
    _error(admin.http.get("/admin/api/replays/nope"), 404, "ReplayDoesNotExist")


def test_functions_with_their_figures(admin: Admin) -> None:
    listed = _ok(admin.http.get("/admin/api/functions"))
    assert listed["window_seconds"] == 300
    functions = {f["name"]: f for f in listed["functions"]}
    assert functions["mailer"]["kind"] == "async"
    assert functions["mailer"]["pending"] == 0
    assert functions["mailer"]["invocations"] == 0
    assert functions["mailer"]["p50_ms"] is None
    ship = functions["ship"]
    assert ship["kind"] == "queue"
    assert ship["pending"] is None
    assert (ship["invocations"], ship["errors"], ship["messages"]) == (2, 1, 4)
    assert ship["p50_ms"] is not None
    assert ship["p99_ms"] is not None


# -- the document ----------------------------------------------------------------------


def _starlette_paths(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= _starlette_paths(route.routes, prefix + route.path)
        elif isinstance(route, Route) and "{rest:path}" not in route.path:
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method.lower(), prefix + route.path))
    return found


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_openapi_document_lists_every_route_with_schemas(admin: Admin) -> None:
    response = admin.http.get("/admin/api/openapi.json")
    document = json.loads(response.text)
    assert document["openapi"].startswith("3.1")
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    served = _starlette_paths(admin_routes(lambda: admin.client, SessionKeys(TOKEN), TOKEN))
    assert served == documented
    assert len(ROUTES) >= 19
    schemas = document["components"]["schemas"]
    for ref in set(_refs(document)):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert schemas["SendMessageRequest"]["additionalProperties"] is False
    assert "queues" in schemas["QueueList"]["properties"]
    peek = document["paths"]["/admin/api/queues/{queue}/messages"]["get"]
    assert {p["name"] for p in peek["parameters"]} == {"queue", "limit", "page_token"}


# -- beside an app ------------------------------------------------------------------------


def test_app_routes_cannot_be_declared_under_admin() -> None:
    app = eventyard.App("shop")
    for path in ("/admin", "/admin/", "/admin/api/queues"):
        with pytest.raises(eventyard.InvalidParameterValue, match="admin surface"):
            app.route("GET", path)
    app.route("GET", "/administrator")(lambda: None)  # only /admin and below are reserved


def test_the_admin_surface_wins_over_an_app_catch_all(world: eventyard.Client) -> None:
    def anything(rest: str) -> dict[str, str]:
        return {"app": rest}

    with serving(world, app_routes=[RouteSpec("GET", "/{rest:path}", anything, "all")]) as live:
        assert live.anon.get("/orders").json() == {"app": "orders"}
        assert live.anon.get("/admin/api/queues").status_code == 401
        assert "queues" in _ok(live.http.get("/admin/api/queues"))
