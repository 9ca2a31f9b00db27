"""The signup example end to end: real `eventyard run`, HTTP, SMTP and marketing API.

The SMTP sink and the marketing API run in this process (threads) on free
ports; the app runs as `eventyard run examples/signup/app.py` with its
settings pointing at them. Async retries wait 60 s in eventyard, so the
failure test sets ``SIGNUP_NEWSLETTER_RETRIES=0``: the first failure goes
straight to the ``on_failure`` destination.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from eventyard.examples.signup.marketing_api import MarketingApi
from eventyard.examples.signup.smtp_sink import SmtpSink
from running_app import RunningApp, free_port, running_app, wait_until

import eventyard

APP = str(Path(__file__).parents[2] / "examples" / "signup" / "app.py")


@dataclass
class Services:
    sink: SmtpSink
    marketing: MarketingApi

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            "SIGNUP_SMTP_HOST": self.sink.host,
            "SIGNUP_SMTP_PORT": str(self.sink.port),
            "SIGNUP_MARKETING_URL": self.marketing.url,
            "SIGNUP_NEWSLETTER_RETRIES": "0",
            **overrides,
        }

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [mail for mail in self.sink.mails() if mail["To"] == address]

    def contacts_of(self, address: str) -> list[dict[str, Any]]:
        return [c for c in self.marketing.contacts() if c["email"] == address]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    folder = tmp_path_factory.mktemp("signup-services")
    with (
        SmtpSink(folder / "mails", port=free_port()) as sink,
        MarketingApi(folder / "contacts", port=free_port()) as marketing,
    ):
        yield Services(sink, marketing)


@pytest.fixture(scope="module")
def signup(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    folder = tmp_path_factory.mktemp("signup-app")
    with running_app(
        APP, f"sqlite:///{folder / 'signup.db'}", folder / "run.log", env=services.env()
    ) as running:
        yield running


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def users(database_url: str) -> list[tuple[Any, ...]]:
    with eventyard.connect(database_url) as client, client.transaction() as tx:
        rows = tx.execute("SELECT user_id, email, name FROM users ORDER BY created_at").fetchall()
    return [tuple(row) for row in rows]


def invocations(running: RunningApp, function: str) -> list[dict[str, Any]]:
    """The invocation log lines of one function (``eventyard.invocations {json}``)."""
    found = []
    for line in running.log().splitlines():
        _, _, text = line.partition("eventyard.invocations ")
        if text.startswith("{"):
            record = json.loads(text)
            if record.get("function") == function:
                found.append(record)
    return found


def create(running: RunningApp, email: str, name: str = "Ada") -> str:
    with running.http() as http:
        response = http.post("/users", json={"email": email, "name": name})
    assert response.status_code == 201, response.text
    user_id = response.json()["user_id"]
    assert isinstance(user_id, str)
    return user_id


def user_view(running: RunningApp, user_id: str) -> dict[str, Any]:
    with running.http() as http:
        response = http.get(f"/users/{user_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def test_signup_saves_the_user_mails_once_and_records_the_contact(
    signup: RunningApp, services: Services
) -> None:
    email = new_email()
    user_id = create(signup, email, "Ada Lovelace")
    assert (user_id, email, "Ada Lovelace") in users(signup.database_url)

    wait_until(lambda: services.mails_to(email), timeout=20, what="the welcome e-mail")
    wait_until(lambda: services.contacts_of(email), timeout=20, what="the marketing contact")
    wait_until(
        lambda: (
            user_view(signup, user_id)["newsletter"]["status"] == "subscribed"
            and user_view(signup, user_id)["welcome_email"]["status"] == "sent"
        ),
        timeout=20,
        what="the user's statuses",
    )
    [mail] = services.mails_to(email)
    assert mail["Subject"] == "Welcome!"
    body = mail.get_body()
    assert body is not None
    assert "Hello Ada Lovelace" in body.get_content()
    [contact] = services.contacts_of(email)
    assert contact["name"] == "Ada Lovelace"
    view = user_view(signup, user_id)
    assert view["email"] == email
    assert view["welcome_email"]["sent_at"] is not None

    with signup.http() as http:
        assert http.get(f"/users/{uuid.uuid4()}").status_code == 404


def test_a_redelivered_event_sends_no_second_email(signup: RunningApp, services: Services) -> None:
    email = new_email()
    user_id = create(signup, email, "Grace")
    wait_until(lambda: services.mails_to(email), timeout=20, what="the welcome e-mail")
    wait_until(lambda: services.contacts_of(email), timeout=20, what="the marketing contact")
    emails_before = len(invocations(signup, "EmailFunction"))
    marketing_before = len(invocations(signup, "MarketingFunction"))

    # The same event again, as an at-least-once delivery may hand it over twice.
    with eventyard.connect(signup.database_url) as client:
        client.get_topic("UserCreated").publish(
            {"user_id": user_id, "email": email, "name": "Grace"}
        )
    wait_until(
        lambda: (
            len(invocations(signup, "EmailFunction")) > emails_before
            and len(invocations(signup, "MarketingFunction")) > marketing_before
        ),
        timeout=20,
        what="both functions to run the redelivered event",
    )
    assert invocations(signup, "EmailFunction")[-1]["outcome"] == "ok"
    assert invocations(signup, "MarketingFunction")[-1]["outcome"] == "ok"
    assert len(services.mails_to(email)) == 1
    assert len(services.contacts_of(email)) == 1


def test_a_duplicate_email_is_409_and_stores_nothing(
    signup: RunningApp, services: Services
) -> None:
    email = new_email()
    create(signup, email, "First")
    before = users(signup.database_url)

    with signup.http() as http:
        response = http.post("/users", json={"email": email.upper(), "name": "Second"})
    assert response.status_code == 409
    assert response.json()["error"] == "EmailAlreadyRegistered"
    assert email.upper() in response.json()["message"]
    assert users(signup.database_url) == before

    # A later signup gets its mail; the refused one never published anything.
    later = new_email()
    create(signup, later)
    wait_until(lambda: services.mails_to(later), timeout=20, what="the later welcome e-mail")
    wait_until(lambda: services.mails_to(email), timeout=20, what="the first welcome e-mail")
    assert len(services.mails_to(email)) == 1
    assert len(services.mails_to(email.upper())) == 0
    assert [c["name"] for c in services.contacts_of(email)] in ([], ["First"])


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b'{"email": "a@example.com", "name": ', 400),  # malformed JSON
        (b'{"email": "a@example.com", "name": 42}', 422),  # wrong type
        (b'{"email": "a@example.com"}', 422),  # missing field
        (b'{"email": "not-an-address", "name": "A"}', 422),
        (b'{"email": "a@example.com", "name": ""}', 422),
        (b'{"email": "a@example.com", "name": "' + b"x" * 101 + b'"}', 422),
        (b'{"email": "a@example.com", "name": "A", "admin": true}', 422),  # unknown field
        (b'["a@example.com", "A"]', 422),
        (b'{"email": "a@example.com", "name": "' + b"x" * 5000 + b'"}', 413),
    ],
    ids=[
        "malformed-json",
        "wrong-type",
        "missing-field",
        "bad-email",
        "empty-name",
        "long-name",
        "unknown-field",
        "not-an-object",
        "too-large",
    ],
)
def test_bad_input_changes_nothing(
    signup: RunningApp, services: Services, content: bytes, status: int
) -> None:
    before = users(signup.database_url)
    with signup.http() as http:
        response = http.post(
            "/users", content=content, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["detail"]
    assert users(signup.database_url) == before
    assert services.mails_to("a@example.com") == []


def test_marketing_down_fails_only_the_newsletter(services: Services, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/contacts"  # nothing listens there
    database_url = f"sqlite:///{tmp_path / 'signup.db'}"
    env = services.env(SIGNUP_MARKETING_URL=closed)
    with running_app(APP, database_url, tmp_path / "run.log", env=env) as signup:
        email = new_email()
        user_id = create(signup, email, "Barbara")
        assert [row[0] for row in users(database_url)] == [user_id]
        wait_until(lambda: services.mails_to(email), timeout=20, what="the welcome e-mail")

        with eventyard.connect(database_url) as client:
            failures = client.get_queue("NewsletterFailures")
            wait_until(lambda: failures.stats().visible == 1, timeout=20, what="the failure")
            [message] = failures.receive(max_messages=10)
        record = message.body
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 1
        assert record["responsePayload"]["errorType"] == "ConnectError"
        assert json.loads(record["requestPayload"]["Message"])["user_id"] == user_id

        wait_until(
            lambda: user_view(signup, user_id)["welcome_email"]["status"] == "sent",
            timeout=20,
            what="the e-mail status",
        )
        assert user_view(signup, user_id)["newsletter"]["status"] == "pending"
        assert len(services.mails_to(email)) == 1
        assert services.contacts_of(email) == []
