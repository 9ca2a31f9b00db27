"""Signup: one UserCreated event, two functions that succeed or fail on their own.

``POST /users`` saves the user and publishes ``UserCreated`` in one
transaction (the outbox). EmailFunction sends the welcome e-mail over SMTP,
once per user even if the event is delivered twice; MarketingFunction adds
the user to the newsletter through a marketing API. If the marketing API is
down, MarketingFunction fails (retried, then recorded in the
``NewsletterFailures`` queue) while the user is created and the e-mail sent.

Run it with ``eventyard run examples/signup/app.py --db sqlite:///signup.db``
(see README.md for the SMTP sink and the marketing API). Settings, read from
the environment: ``SIGNUP_SMTP_HOST`` / ``SIGNUP_SMTP_PORT`` (the SMTP server,
127.0.0.1:8025), ``SIGNUP_MARKETING_URL`` (http://127.0.0.1:8026/contacts),
``SIGNUP_MAIL_FROM``, and ``SIGNUP_NEWSLETTER_RETRIES`` (0-2, default 2; the
tests use 0, as eventyard waits 60 s then 120 s between async retries).
"""

from __future__ import annotations

import json
import os
import smtplib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, StringConstraints

import eventyard

SMTP_HOST = os.environ.get("SIGNUP_SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("SIGNUP_SMTP_PORT", "8025"))
MAIL_FROM = os.environ.get("SIGNUP_MAIL_FROM", "welcome@signup.example")
MARKETING_URL = os.environ.get("SIGNUP_MARKETING_URL", "http://127.0.0.1:8026/contacts")
NEWSLETTER_RETRIES = int(os.environ.get("SIGNUP_NEWSLETTER_RETRIES", "2"))
NETWORK_TIMEOUT_SECONDS = 3  # SMTP and HTTP calls; well under the functions' timeout
FUNCTION_TIMEOUT_SECONDS = 10
MAX_BODY_BYTES = 4096

app = eventyard.App("signup")
user_created = app.topic("UserCreated")
email_failures = app.queue("EmailFailures")  # where failed invocations end up
newsletter_failures = app.queue("NewsletterFailures")


@app.setup
def create_tables(client: eventyard.Client) -> None:
    with client.transaction() as tx:
        tx.execute(
            """CREATE TABLE IF NOT EXISTS users (
                user_id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                name TEXT NOT NULL,
                created_at TEXT NOT NULL,
                email_sent_at TEXT,
                newsletter_at TEXT
            )"""
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# -- the API (API Gateway + the function behind it) ----------------------------------

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name


@app.route("POST", "/users", max_body_bytes=MAX_BODY_BYTES)
def create_user(user: NewUser, tx: eventyard.Transaction) -> tuple[int, dict[str, str]]:
    user_id = str(uuid.uuid4())
    inserted = tx.execute(
        "INSERT INTO users (user_id, email, name, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (email) DO NOTHING RETURNING user_id",
        (user_id, user.email, user.name, _now()),
    ).fetchall()
    if not inserted:  # the UNIQUE email: nothing inserted, nothing published
        message = f"a user with email {user.email!r} already exists"
        return 409, {"error": "EmailAlreadyRegistered", "message": message}
    event = {"user_id": user_id, "email": user.email, "name": user.name}
    tx.publish(user_created.name, event)  # committed with the row, or not at all
    return 201, {"user_id": user_id}


@app.route("GET", "/users/{user_id}")
def show_user(user_id: str, tx: eventyard.Transaction) -> tuple[int, dict[str, Any]]:
    row = tx.execute(
        "SELECT email, name, created_at, email_sent_at, newsletter_at FROM users WHERE user_id = ?",
        (user_id,),
    ).fetchone()
    if row is None:
        return 404, {"error": "UserNotFound", "message": f"no user {user_id!r}"}
    email, name, created_at, email_sent_at, newsletter_at = row
    return 200, {
        "user_id": user_id,
        "email": email,
        "name": name,
        "created_at": created_at,
        "welcome_email": {
            "status": "pending" if email_sent_at is None else "sent",
            "sent_at": email_sent_at,
        },
        "newsletter": {
            "status": "pending" if newsletter_at is None else "subscribed",
            "subscribed_at": newsletter_at,
        },
    }


# -- EmailFunction --------------------------------------------------------------------


@eventyard.idempotent(key="user_id", in_progress_expiry_seconds=FUNCTION_TIMEOUT_SECONDS)
def send_welcome(user: dict[str, Any], client: eventyard.Client) -> str:
    """Mail one user, once: a redelivered UserCreated gets the stored result, no second mail."""
    mail = EmailMessage()
    mail["From"] = MAIL_FROM
    mail["To"] = user["email"]
    mail["Subject"] = "Welcome!"
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<welcome-{user['user_id']}@signup.example>"
    mail.set_content(f"Hello {user['name']},\n\nwelcome aboard.\n")
    with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=NETWORK_TIMEOUT_SECONDS) as smtp:
        smtp.send_message(mail)
    sent_at = _now()
    with client.transaction() as tx:
        tx.execute(
            "UPDATE users SET email_sent_at = ? WHERE user_id = ? AND email_sent_at IS NULL",
            (sent_at, user["user_id"]),
        )
    return sent_at


@app.on_topic(
    user_created,
    name="EmailFunction",
    timeout_seconds=FUNCTION_TIMEOUT_SECONDS,
    on_failure=email_failures,
)
def welcome_email(notification: dict[str, Any], context: eventyard.FunctionContext) -> None:
    send_welcome(json.loads(notification["Message"]), context.client)


# -- MarketingFunction ----------------------------------------------------------------


@app.on_topic(
    user_created,
    name="MarketingFunction",
    timeout_seconds=FUNCTION_TIMEOUT_SECONDS,
    retries=NEWSLETTER_RETRIES,
    on_failure=newsletter_failures,
)
def update_marketing(notification: dict[str, Any], context: eventyard.FunctionContext) -> None:
    """Add the user to the newsletter; the marketing API dedupes on the Idempotency-Key."""
    user = json.loads(notification["Message"])
    response = httpx.post(
        MARKETING_URL,
        json={"email": user["email"], "name": user["name"]},
        headers={"Idempotency-Key": f"newsletter-{user['user_id']}"},
        timeout=NETWORK_TIMEOUT_SECONDS,
    )
    response.raise_for_status()  # a failure: retried, then sent to NewsletterFailures
    with context.transaction() as tx:
        tx.execute(
            "UPDATE users SET newsletter_at = ? WHERE user_id = ? AND newsletter_at IS NULL",
            (_now(), user["user_id"]),
        )
