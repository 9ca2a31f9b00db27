"""Who may use the admin surface: 401 on every API route without credentials (and nothing
changes), cookie sessions from the login form or a one-time link, CSRF, login throttling."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from admin_server import TOKEN, Admin, build_world, serving

import eventyard
from eventyard.admin.api import ROUTES
from eventyard.admin.auth import MAX_FAILED_LOGINS, LoginThrottle


@pytest.fixture
def world(tmp_path: Path) -> Iterator[eventyard.Client]:
    with eventyard.connect(f"sqlite:///{tmp_path}/admin.db", durability="process") as client:
        build_world(client)
        yield client


@pytest.fixture
def admin(world: eventyard.Client) -> Iterator[Admin]:
    with serving(world) as live:
        yield live


#: A value for every path parameter, naming something that exists.
_EXISTING = {
    "queue": "orders-dlq",
    "message_id": "",  # filled in from the DLQ
    "task_id": "t",
    "topic": "news",
    "bus": "default",
    "rule": "big",
    "replay": "r",
}


def _snapshot(client: eventyard.Client) -> dict[str, Any]:
    queues = {}
    for name in client.list_queues():
        queue = client.get_queue(name)
        stats = queue.stats()
        queues[name] = (stats.visible, stats.in_flight, stats.delayed, queue.counters())
    return {
        "queues": queues,
        "dlq": [m.message_id for m in client.get_queue("orders-dlq").peek(100).messages],
        "rules": [(r.name, r.enabled) for r in client.bus().rules()],
        "replays": client.store.list_replays(),
        "tasks": client.redrive_tasks("orders-dlq"),
    }


def _requests(admin: Admin) -> list[tuple[str, str, dict[str, Any]]]:
    """Every API route, with path values that exist and a body it would accept."""
    values = {
        **_EXISTING,
        "message_id": admin.client.get_queue("orders-dlq").peek(1).messages[0].message_id,
    }
    bodies: dict[str, Any] = {
        "send_message": {"body": "x"},
        "publish": {"message": "x"},
        "put_events": {"entries": [{"source": "s", "detail_type": "t", "detail": {"total": 500}}]},
        "start_replay": {"name": "r", "archive": "everything", "start": 0, "end": 1},
    }
    found = []
    for route in ROUTES:
        path = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], route.full_path)
        options: dict[str, Any] = {}
        if route.method != "GET" and route.method != "DELETE":
            options["json"] = bodies.get(route.name, {})
        found.append((route.method, path, options))
    found.append(("GET", "/admin/api/openapi.json", {}))
    found.append(("GET", "/admin/api/no-such-route", {}))
    return found


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Cookie": "eventyard_session=forged.99999999999.signature"},
    ],
    ids=["nothing", "wrong-bearer", "basic", "forged-cookie"],
)
def test_every_api_route_answers_401_without_credentials_and_changes_nothing(
    admin: Admin, headers: dict[str, str]
) -> None:
    before = _snapshot(admin.client)
    requests = _requests(admin)
    assert len(requests) == len(ROUTES) + 2
    for method, path, options in requests:
        response = admin.anon.request(method, path, headers=headers, **options)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"] == "Unauthorized"
    assert _snapshot(admin.client) == before


def test_a_cookie_session_needs_the_csrf_token_to_change_anything(admin: Admin) -> None:
    csrf = admin.login()
    assert _snapshot(admin.client)  # reads work with the cookie alone
    assert admin.anon.get("/admin/api/queues").status_code == 200
    before = _snapshot(admin.client)
    for method, path, options in _requests(admin):
        if method in ("GET",):
            continue
        for headers in ({}, {"X-CSRF-Token": "wrong"}):
            response = admin.anon.request(method, path, headers=headers, **options)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"] == "CsrfTokenMismatch"
    assert _snapshot(admin.client) == before

    purged = admin.anon.post("/admin/api/queues/orders/purge", headers={"X-CSRF-Token": csrf})
    assert purged.status_code == 200, purged.text
    form = admin.anon.post(
        "/admin/api/buses/default/rules/big/disable",
        data={"csrf": csrf},  # a form field does as well as the header
    )
    assert form.status_code == 200, form.text
    assert not admin.client.bus().rule("big").enabled


def test_a_wrong_bearer_header_is_not_rescued_by_a_good_cookie(admin: Admin) -> None:
    admin.login()
    response = admin.anon.get("/admin/api/queues", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_the_session_route_tells_who_is_calling(admin: Admin) -> None:
    assert admin.http.get("/admin/api/session").json() == {
        "authenticated_by": "bearer",
        "csrf_token": None,
        "expires_at": None,
    }
    csrf = admin.login()
    body = admin.anon.get("/admin/api/session").json()
    assert body["authenticated_by"] == "session"
    assert body["csrf_token"] == csrf
    assert body["expires_at"] > 0


def test_the_login_form_and_its_cookie(admin: Admin) -> None:
    form = admin.anon.get("/admin/login")
    assert form.status_code == 200
    assert "name=token" in form.text
    assert form.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
    wrong = admin.anon.post("/admin/login", data={"token": "<script>alert(1)</script>"})
    assert wrong.status_code == 401
    assert "<script>" not in wrong.text
    assert "eventyard_session" not in admin.anon.cookies
    response = admin.anon.post("/admin/login", data={"token": TOKEN})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/"
    cookie = response.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/admin"):
        assert attribute.lower() in cookie.lower(), cookie
    home = admin.anon.get("/admin/")
    assert home.status_code == 200
    assert "orders-dlq" in home.text


def test_logging_out_needs_the_csrf_token_and_ends_the_cookie(admin: Admin) -> None:
    csrf = admin.login()
    assert admin.anon.post("/admin/logout").status_code == 403
    assert admin.anon.get("/admin/api/queues").status_code == 200
    out = admin.anon.post("/admin/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert out.headers["location"] == "/admin/login"
    assert admin.anon.get("/admin/api/queues").status_code == 401


def test_the_home_page_redirects_to_the_login_form_when_logged_out(admin: Admin) -> None:
    response = admin.anon.get("/admin/")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"
    assert admin.http.get("/admin/").status_code == 200  # a bearer header will do too


def test_failed_logins_are_throttled(world: eventyard.Client) -> None:
    with serving(world, throttle=LoginThrottle()) as live:
        for _ in range(MAX_FAILED_LOGINS):
            assert live.anon.post("/admin/login", data={"token": "guess"}).status_code == 401
        refused = live.anon.post("/admin/login", data={"token": TOKEN})  # even the right one
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 61
        link = live.anon.get("/admin/login", params={"once": live.keys.one_time_link()})
        assert link.status_code == 429
        assert "eventyard_session" not in live.anon.cookies
        # Bearer clients are not affected by the throttle of the form.
        assert live.http.get("/admin/api/queues").status_code == 200


def test_a_one_time_link_works_once(admin: Admin) -> None:
    code = admin.keys.one_time_link()
    first = admin.anon.get("/admin/login", params={"once": code})
    assert first.status_code == 200, first.text
    assert 'http-equiv=refresh content="0;url=/admin/"' in first.text
    assert first.headers["referrer-policy"] == "no-referrer"
    assert admin.anon.get("/admin/api/queues").status_code == 200
    with httpx.Client(base_url=admin.url) as other:
        second = other.get("/admin/login", params={"once": code})
        assert second.status_code == 401
        assert "eventyard_session" not in other.cookies
        forged = other.get("/admin/login", params={"once": code[:-2] + "xx"})
        assert forged.status_code == 401
