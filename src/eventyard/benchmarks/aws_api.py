"""``eventyard bench aws``: boto3 through the AWS-compatible endpoint vs the Python API.

One SQLite file, two ways in, in the same invocation:

* **boto3**: ``eventyard serve --aws`` runs as its own process (as users run
  it); the benchmark process's boto3 client calls ``SendMessageBatch`` (10 per
  call) for N messages, then ``ReceiveMessage`` (10) and ``DeleteMessageBatch``
  until all N are back; each call is one HTTP request (keep-alive);
* **Python API** (the baseline): the same loop in the benchmark process with
  ``send_batch``, ``receive(10)`` and ``delete_batch`` on the same file.

Each run uses a queue of its own; runs alternate (boto3, Python, boto3, ...)
so both see the machine alike. Reported: medians of msgs/s for the send phase
and for the receive-and-delete phase, and the ratio boto3 / Python API.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import eventyard

BATCH: Final = 10
BODY: Final = "x" * 200


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_endpoint(database: str) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _free_port()
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
            f"sqlite:///{database}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError("eventyard serve --aws exited at start")
        try:
            httpx.get(url, timeout=1)
            return process, url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("eventyard serve --aws never listened") from None
            time.sleep(0.1)


def _timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _boto_run(url: str, name: str, messages: int) -> tuple[float, float]:
    import boto3
    from botocore.config import Config

    sqs = boto3.client(
        "sqs",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 1}),
    )
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]

    def send() -> None:
        entries = [{"Id": str(i), "MessageBody": BODY} for i in range(BATCH)]
        for _ in range(messages // BATCH):
            sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)

    def drain() -> None:
        done = 0
        while done < messages:
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=BATCH).get(
                "Messages", []
            )
            if got:
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(got)
                    ],
                )
                done += len(got)

    return _timed(send), _timed(drain)


def _python_run(client: eventyard.Client, name: str, messages: int) -> tuple[float, float]:
    queue = client.create_queue(name)

    def send() -> None:
        bodies = [BODY] * BATCH
        for _ in range(messages // BATCH):
            queue.send_batch(bodies)

    def drain() -> None:
        done = 0
        while done < messages:
            got = queue.receive(max_messages=BATCH, wait_seconds=0)
            if got:
                queue.delete_batch(got)
                done += len(got)

    return _timed(send), _timed(drain)


def run(messages: int, runs: int) -> dict[str, Any]:
    messages = max(BATCH, messages - messages % BATCH)
    with tempfile.TemporaryDirectory(prefix="eventyard-aws-bench-") as folder:
        database = os.path.join(folder, "aws.db")
        client = eventyard.connect(f"sqlite:///{database}")
        process, url = _start_endpoint(database)
        taken: dict[str, list[tuple[float, float]]] = {"boto3": [], "python": []}
        try:
            for run_number in range(runs):
                taken["boto3"].append(_boto_run(url, f"boto{run_number}", messages))
                taken["python"].append(_python_run(client, f"py{run_number}", messages))
        finally:
            process.terminate()
            process.wait(30)
            client.close()
    summary: dict[str, Any] = {"messages": messages, "runs": runs}
    for system, times in taken.items():
        summary[system] = {
            "send_msgs_per_s": round(statistics.median(messages / s for s, _ in times)),
            "receive_delete_msgs_per_s": round(statistics.median(messages / d for _, d in times)),
        }
    for phase in ("send_msgs_per_s", "receive_delete_msgs_per_s"):
        summary[f"ratio_{phase}"] = round(summary["boto3"][phase] / summary["python"][phase], 3)
    return summary


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{result['messages']} messages, 10 per call, medians of {result['runs']} runs",
        f"{'':12} {'send msgs/s':>12} {'receive+delete msgs/s':>22}",
    ]
    for system in ("boto3", "python"):
        figures = result[system]
        lines.append(
            f"{system:12} {figures['send_msgs_per_s']:>12} "
            f"{figures['receive_delete_msgs_per_s']:>22}"
        )
    lines.append(
        f"{'ratio':12} {result['ratio_send_msgs_per_s']:>12} "
        f"{result['ratio_receive_delete_msgs_per_s']:>22}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args(argv)
    result = run(options.messages, options.runs)
    print(json.dumps(result) if options.json else render(result))
    return 0
