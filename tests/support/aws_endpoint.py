"""A real AWS-compatible endpoint on loopback for each test, and boto3 clients for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from running_app import free_port

import eventyard
from eventyard.aws.context import AwsSettings
from eventyard.aws.server import endpoint_app

boto3 = pytest.importorskip("boto3")


@dataclass
class AwsEndpoint:
    url: str
    client: eventyard.Client
    settings: AwsSettings

    def boto(self, service: str, **options: Any) -> Any:
        """A boto3 client of ``service`` ("sqs", "sns", "events") for this endpoint."""
        from botocore.config import Config

        options.setdefault("aws_access_key_id", "AKIDEXAMPLE")
        options.setdefault("aws_secret_access_key", "secret")
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.settings.region,
            config=Config(retries={"max_attempts": 1}),
            **options,
        )


def serve(client: eventyard.Client, settings: AwsSettings) -> Iterator[str]:
    """Serve the endpoint of ``client`` on a free loopback port until the generator ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            endpoint_app(client, settings), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the AWS endpoint did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[AwsEndpoint]:
    """An endpoint on a fresh SQLite database, any credentials accepted."""
    settings = AwsSettings()
    with eventyard.connect(f"sqlite:///{tmp_path / 'aws.db'}") as client:
        for url in serve(client, settings):
            yield AwsEndpoint(url, client, settings)


@pytest.fixture
def aws_factory(tmp_path: Path) -> Iterator[Callable[[AwsSettings], AwsEndpoint]]:
    """Endpoints with other settings (account, region, required credentials)."""
    stops: list[Iterator[str]] = []
    clients: list[eventyard.Client] = []

    def make(settings: AwsSettings) -> AwsEndpoint:
        client = eventyard.connect(f"sqlite:///{tmp_path / f'aws{len(clients)}.db'}")
        clients.append(client)
        serving = serve(client, settings)
        stops.append(serving)
        return AwsEndpoint(next(serving), client, settings)

    yield make
    for serving in stops:
        for _ in serving:
            pass
    for client in clients:
        client.close()
