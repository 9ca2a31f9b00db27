"""``eventyard serve --aws``: the endpoint as a command, with and without required SigV4."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from running_app import free_port, stop


@contextmanager
def serving(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eventyard",
            "serve",
            "--aws",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{tmp_path / 'aws.db'}",
            *args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "eventyard serve --aws never listened"
                time.sleep(0.1)
        yield url
    finally:
        stop(process)
        log.close()


def sqs(url: str, key: str, secret: str) -> object:
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def test_any_credentials_by_default(tmp_path: Path) -> None:
    with serving(tmp_path) as url:
        client = sqs(url, "anything", "at all")
        assert client.create_queue(QueueName="q")["QueueUrl"].endswith("/000000000000/q")  # type: ignore[attr-defined]


def test_require_auth_checks_sigv4(tmp_path: Path) -> None:
    env = {"EVENTYARD_AWS_CREDENTIALS": "AKIDGOOD:s3cret,AKIDOTHER:other"}
    with serving(tmp_path, "--require-auth", "--account", "123456789012", env=env) as url:
        good = sqs(url, "AKIDGOOD", "s3cret")
        assert good.create_queue(QueueName="q")["QueueUrl"].endswith("/123456789012/q")  # type: ignore[attr-defined]
        with pytest.raises(ClientError) as wrong_secret:
            sqs(url, "AKIDGOOD", "guess").list_queues()  # type: ignore[attr-defined]
        assert wrong_secret.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        with pytest.raises(ClientError) as unknown_key:
            sqs(url, "AKIDNOPE", "s3cret").list_queues()  # type: ignore[attr-defined]
        assert unknown_key.value.response["Error"]["Code"] == "InvalidClientTokenId"
        unsigned = httpx.post(url, data={"Action": "ListQueues"})
        assert unsigned.status_code == 403
        assert "<Code>InvalidClientTokenId</Code>" in unsigned.text


def test_require_auth_without_credentials_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "eventyard",
            "serve",
            "--aws",
            "--require-auth",
            "--db",
            f"sqlite:///{tmp_path / 'aws.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "EVENTYARD_AWS_CREDENTIALS"},
    )
    assert result.returncode != 0
    assert "require_auth needs at least one access key" in result.stderr + result.stdout
