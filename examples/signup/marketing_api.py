"""A stand-in for a third-party marketing API: ``POST /contacts`` records a newsletter contact.

The signup example's MarketingFunction calls it; stopping it is how the
example shows that function failing on its own::

    python -m eventyard.examples.signup.marketing_api --folder contacts --port 8026

or, from Python (the tests)::

    with MarketingApi("contacts", port=8026) as api:
        ...
        api.contacts()      # what was recorded, oldest first

Contacts are appended to ``FOLDER/contacts.jsonl``. A request repeating an
``Idempotency-Key`` already recorded is answered 200 and not recorded again
(the first one gets 201), as payment and marketing APIs commonly do, so a
retried call does not subscribe anyone twice.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .local_service import LocalService

__all__ = ["MarketingApi", "create_app", "main", "read_contacts"]

CONTACTS_FILE = "contacts.jsonl"


def read_contacts(folder: Path | str) -> list[dict[str, Any]]:
    """The contacts recorded in ``folder``, oldest first."""
    path = Path(folder) / CONTACTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def create_app(folder: Path | str) -> Starlette:
    """The marketing API as an ASGI app, recording into ``folder``."""
    path = Path(folder) / CONTACTS_FILE
    lock = threading.Lock()
    seen = {contact.get("idempotency_key") for contact in read_contacts(folder)} - {None}

    async def add_contact(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("email"), str):
            return JSONResponse({"error": "a JSON object with an email is needed"}, 422)
        key = request.headers.get("Idempotency-Key")
        with lock:
            if key and key in seen:
                return JSONResponse({"status": "already recorded"}, status_code=200)
            contact = {**body, "idempotency_key": key, "received_at": time.time()}
            with path.open("a") as file:
                file.write(json.dumps(contact) + "\n")
            seen.add(key)
        return JSONResponse({"status": "recorded"}, status_code=201)

    async def list_contacts(request: Request) -> JSONResponse:
        return JSONResponse(read_contacts(folder))

    return Starlette(
        routes=[
            Route("/contacts", add_contact, methods=["POST"]),
            Route("/contacts", list_contacts, methods=["GET"]),
        ]
    )


class MarketingApi(LocalService):
    """The marketing API on ``host:port``, served by uvicorn in a thread between start and stop."""

    def __init__(self, folder: Path | str, *, host: str = "127.0.0.1", port: int = 8026) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/contacts"

    def start(self, timeout: float = 10) -> MarketingApi:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = uvicorn.Config(
            create_app(self.folder),
            host=self.host,
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="marketing-api", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"the marketing API did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    def contacts(self) -> list[dict[str, Any]]:
        return read_contacts(self.folder)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local marketing API that records contacts.")
    parser.add_argument("--folder", default="contacts", help="where contacts.jsonl goes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    args = parser.parse_args(argv)
    Path(args.folder).mkdir(parents=True, exist_ok=True)
    print(
        f"marketing API on http://{args.host}:{args.port}/contacts, recording to {args.folder}/",
        flush=True,
    )
    uvicorn.run(create_app(args.folder), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
