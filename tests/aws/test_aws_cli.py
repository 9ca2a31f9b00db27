"""The AWS CLI (awscli from PyPI) against the endpoint: a few smoke calls per service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_endpoint import AwsEndpoint

pytest.importorskip("awscli")


def aws_cli(endpoint: AwsEndpoint, tmp_path: Path, *args: str) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": endpoint.settings.region,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--endpoint-url", endpoint.url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_sqs_send_message(aws: AwsEndpoint, tmp_path: Path) -> None:
    url = aws_cli(aws, tmp_path, "sqs", "create-queue", "--queue-name", "cli")["QueueUrl"]
    sent = aws_cli(aws, tmp_path, "sqs", "send-message", "--queue-url", url, "--message-body", "hi")
    assert sent["MD5OfMessageBody"] == "49f68a5c8493ec2c0bf489821c21fc3b"
    [message] = aws.client.get_queue("cli").receive()
    assert (message.message_id, message.body) == (sent["MessageId"], "hi")


def test_sns_publish(aws: AwsEndpoint, tmp_path: Path) -> None:
    queue = aws.client.create_queue("inbox")
    arn = aws_cli(aws, tmp_path, "sns", "create-topic", "--name", "news")["TopicArn"]
    aws.client.get_topic("news").subscribe(queue, raw=True)
    aws_cli(aws, tmp_path, "sns", "publish", "--topic-arn", arn, "--message", "extra")
    assert [m.body for m in queue.receive()] == ["extra"]


def test_events_put_events(aws: AwsEndpoint, tmp_path: Path) -> None:
    queue = aws.client.create_queue("orders")
    aws.client.bus().put_rule("shop", pattern={"source": ["shop"]}).add_target(queue)
    entry = {"Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps({"id": 1})}
    put = aws_cli(aws, tmp_path, "events", "put-events", "--entries", json.dumps([entry]))
    assert put["FailedEntryCount"] == 0
    [message] = queue.receive()
    assert message.body["detail"] == {"id": 1}
