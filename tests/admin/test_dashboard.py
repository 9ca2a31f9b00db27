"""The dashboard's pages over HTTP (no browser): what they show, escaping, headers, access.

The browser tests (test_dashboard_browser.py) drive the same pages in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_server import Admin, build_world, serving

import eventyard
from eventyard.admin.dashboard import DASHBOARD_CSP, pretty_body, preview, static_url

XSS = "<script>window.pwned=1</script>"


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[Admin]:
    with eventyard.connect(f"sqlite:///{tmp_path}/admin.db", durability="process") as client:
        build_world(client)
        with serving(client) as live:
            yield live


def _page(admin: Admin, path: str, status: int = 200) -> str:
    response = admin.http.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == DASHBOARD_CSP
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    return response.text


def test_the_overview_shows_topics_rules_queues_and_their_figures(admin: Admin) -> None:
    text = _page(admin, "/admin/")
    for shown in ("news", "orders", "orders-dlq", "big", "jobs.fifo", "default"):
        assert shown in text, shown
    assert 'href="/admin/queues/orders-dlq"' in text
    assert "DLQ" in text
    assert "<script src=" in text
    assert "/admin/static/dashboard.js?v=" in text
    assert "<script>" not in text  # no inline script: the CSP forbids it anyway


def test_a_dead_letter_queue_page_lists_messages_with_their_failures(admin: Admin) -> None:
    text = _page(admin, "/admin/queues/orders-dlq")
    assert text.count('name="message"') == 3
    assert "OutOfPaper" in text
    assert "&lt;no paper&gt;" in text
    assert "<no paper>" not in text
    assert 'data-action="redrive-all"' in text
    assert 'name="csrf-token"' not in text  # a bearer caller has no session
    plain = _page(admin, "/admin/queues/orders")
    assert 'data-action="redrive"' not in plain  # not a dead-letter queue
    assert 'data-action="delete"' in plain


def test_bodies_are_escaped_on_every_page(admin: Admin) -> None:
    dlq = admin.client.get_queue("orders-dlq")
    message_id = dlq.send(XSS, attributes={"note": XSS})
    for path in ("/admin/queues/orders-dlq", f"/admin/queues/orders-dlq/messages/{message_id}"):
        text = _page(admin, path)
        assert XSS not in text
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in text


def test_the_message_view_and_a_missing_message(admin: Admin) -> None:
    message = admin.client.get_queue("orders-dlq").peek(1).messages[0]
    text = _page(admin, f"/admin/queues/orders-dlq/messages/{message.message_id}")
    assert "&#34;order&#34;: 0" in text  # pretty-printed JSON, escaped
    assert "OutOfPaper" in text
    assert "Traceback" in text
    missing = _page(admin, "/admin/queues/orders-dlq/messages/nope", 404)
    assert "MessageNotFound" in missing
    assert "QueueDoesNotExist" in _page(admin, "/admin/queues/no-such-queue", 404)
    assert "QueueDoesNotExist" in _page(admin, "/admin/queues/eventyard:fn:mailer", 404)


def test_the_functions_page(admin: Admin) -> None:
    text = _page(admin, "/admin/functions")
    assert "ship" in text
    assert "mailer" in text
    assert "50%" in text  # ship: 1 error in 2 calls


def test_strangers_go_to_the_login_form_and_get_nothing(admin: Admin) -> None:
    for path in (
        "/admin/",
        "/admin/queues/orders-dlq",
        "/admin/queues/orders-dlq/messages/x",
        "/admin/functions",
    ):
        response = admin.anon.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/admin/login"
    for path in (static_url("dashboard.js"), static_url("dashboard.css"), "/metrics"):
        response = admin.anon.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_static_files_and_metrics_for_a_caller_with_the_token(admin: Admin) -> None:
    script = admin.http.get(static_url("dashboard.js"))
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in script.text  # text goes in as text
    assert admin.http.get("/admin/static/nope.js").status_code == 404
    metrics = admin.http.get("/metrics")
    assert metrics.status_code == 200
    assert 'eventyard_queue_visible_messages{queue="orders-dlq"} 3.0' in metrics.text


def test_a_session_sees_its_csrf_token_on_the_page(admin: Admin) -> None:
    csrf = admin.login()
    text = admin.anon.get("/admin/queues/orders-dlq").text
    assert f'<meta name="csrf-token" content="{csrf}">' in text
    assert 'action="/admin/logout"' in text


def test_bodies_are_shown_for_reading() -> None:
    assert pretty_body({"a": [1]}, "json") == '{\n  "a": [\n    1\n  ]\n}'
    assert pretty_body('{"a": 1}', "text") == '{\n  "a": 1\n}'
    assert pretty_body("plain <b>", "text") == "plain <b>"  # escaped by the template
    assert pretty_body("AAE=", "bytes") == "(bytes, base64) AAE="
    assert preview("x" * 500, "text").endswith("…")
