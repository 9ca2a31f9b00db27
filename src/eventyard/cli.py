"""The ``eventyard`` command line (also ``python -m eventyard``).

Thin: each command parses its options and calls the public API.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from eventyard import commands
from eventyard.commands._common import fail, session
from eventyard.errors import EventyardError, InvalidParameterValue

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from eventyard.admin.access import AdminAccess
    from eventyard.broker.client import Client

app = typer.Typer(
    name="eventyard",
    help="Event-driven systems with SQS, SNS, EventBridge and Lambda semantics, on SQLite or "
    "PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(
    help="Benchmarks (medians and ratios against baselines).", no_args_is_help=True
)
commands.register(app)  # queues, topics, rules, functions, dlq, tail
app.add_typer(bench_app, name="bench")

console = Console()
errors = Console(stderr=True)

DbOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Option("--db", help="Database URL (default: $EVENTYARD_DB or sqlite:///./eventyard.db)."),
]
AsyncRetryDelayOption = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        min=1,
        max=3600,
        help="Seconds before an async function's first retry (doubling after); default 60, as AWS.",
    ),
]


@app.command()
def demo(
    folder: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--dir", help="A new or empty folder for the shop (default: a temporary one)."
        ),
    ] = None,
    port: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            min=1, max=65535, help="API port on 127.0.0.1 (default 8000, else a free one)."
        ),
    ] = None,
    exit_after: Annotated[
        bool, typer.Option("--exit", help="End after the scenario instead of serving on.")
    ] = False,
) -> None:
    """The chapter's checkout system, running, with a narrated scenario and live figures."""
    from eventyard.demo import run_demo

    raise typer.Exit(code=run_demo(folder, console, port=port, exit_after=exit_after))


@app.command()
def send(
    queue: str,
    body: str,
    db: DbOption = None,
    attribute: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--attribute", "-a", help="name=value (a String attribute); repeatable."),
    ] = None,
    delay_seconds: Optional[int] = None,  # noqa: UP045
    group_id: Optional[str] = None,  # noqa: UP045
    deduplication_id: Optional[str] = None,  # noqa: UP045
) -> None:
    """Send one message (the body as given: text)."""
    attributes = _attributes(attribute)
    with session(db) as client:
        message_id = client.get_queue(queue).send(
            body,
            attributes=attributes or None,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )
        console.print(message_id)


@app.command()
def receive(
    queue: str,
    db: DbOption = None,
    max_messages: int = 1,
    wait_seconds: float = 0,
    delete: Annotated[bool, typer.Option(help="Delete what was received.")] = False,
) -> None:
    """Receive messages and print them as JSON lines."""
    with session(db) as client:
        handle = client.get_queue(queue)
        messages = handle.receive(max_messages=max_messages, wait_seconds=wait_seconds)
        for message in messages:
            sys.stdout.write(
                json.dumps(
                    {
                        "message_id": message.message_id,
                        "body": message.text,
                        "attributes": {k: str(v) for k, v in message.attributes.items()},
                        "receive_count": message.receive_count,
                        "receipt_handle": message.receipt_handle,
                    }
                )
                + "\n"
            )
        if delete and messages:
            handle.delete_batch(messages)


@app.command()
def redrive(
    dead_letter_queue: str,
    db: DbOption = None,
    to: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Destination queue (default: each message's source queue)."),
    ] = None,
    rate: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="At most this many messages per second (1-500)."),
    ] = None,
) -> None:
    """Move the messages of a dead-letter queue back, and wait until done."""
    with session(db) as client:
        task = client.start_redrive(dead_letter_queue, destination=to, max_messages_per_second=rate)
        progress = task.wait()
        console.print(
            f"{progress.status.lower()}: moved {progress.moved} of {progress.to_move}, "
            f"skipped {progress.skipped}"
        )


def _attributes(items: list[str] | None) -> dict[str, object]:
    attributes: dict[str, object] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            errors.print(f"[red]error[/red]: --attribute {item!r} must be name=value")
            raise typer.Exit(code=2)
        attributes[name] = value
    return attributes


@app.command()
def subscribe(
    topic: str,
    endpoint: Annotated[str, typer.Argument(help="A queue name or an http(s) URL.")],
    db: DbOption = None,
    raw: bool = False,
    filter_policy: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="A filter policy as JSON."),
    ] = None,
    filter_policy_scope: str = "MessageAttributes",
) -> None:
    """Subscribe a queue or a webhook to a topic."""
    try:
        policy = None if filter_policy is None else json.loads(filter_policy)
    except ValueError as exc:
        errors.print(f"[red]error[/red]: --filter-policy is not JSON: {exc}")
        raise typer.Exit(code=2) from None
    with session(db) as client:
        subscription = client.get_topic(topic).subscribe(
            endpoint, raw=raw, filter_policy=policy, filter_policy_scope=filter_policy_scope
        )
        console.print(subscription.arn)


@app.command()
def publish(
    topic: str,
    message: str,
    db: DbOption = None,
    subject: Optional[str] = None,  # noqa: UP045
    attribute: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--attribute", "-a", help="name=value (a String attribute); repeatable."),
    ] = None,
    group_id: Optional[str] = None,  # noqa: UP045
    deduplication_id: Optional[str] = None,  # noqa: UP045
) -> None:
    """Publish one message (text) to a topic."""
    attributes = _attributes(attribute)
    with session(db) as client:
        message_id = client.get_topic(topic).publish(
            message,
            subject=subject,
            attributes=attributes or None,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )
        console.print(message_id)


@app.command("put-events")
def put_events(
    source: Annotated[str, typer.Option(help="The event's source.")],
    detail_type: Annotated[str, typer.Option(help="The event's detail-type.")],
    detail: Annotated[str, typer.Option(help="The event's detail, a JSON object.")] = "{}",
    bus: Annotated[str, typer.Option(help="The event bus.")] = "default",
    db: DbOption = None,
) -> None:
    """Put one event on an event bus; prints its id."""
    with session(db) as client:
        [result] = client.bus(bus).put_events(
            [{"source": source, "detail_type": detail_type, "detail": detail}]
        )
        if not result.ok:
            errors.print(f"[red]error[/red] ({result.error_code}): {result.error_message}")
            raise typer.Exit(code=1)
        console.print(result.event_id)


@app.command()
def dispatch(db: DbOption = None) -> None:
    """Run a dispatcher until Ctrl-C: webhooks, retries, schedules, replays, orphan redrives."""
    import signal

    with session(db) as client:
        dispatcher = client.dispatcher()
        console.print(f"dispatching for {client.url}; Ctrl-C to stop")

        def stop(signum: int, frame: object) -> None:
            dispatcher.request_stop()

        signal.signal(signal.SIGTERM, stop)
        try:
            dispatcher.run()
        except KeyboardInterrupt:
            pass
        finally:
            dispatcher.stop()
        console.print(
            f"stopped: {dispatcher.delivered} delivered, {dispatcher.dead_lettered} "
            f"dead-lettered, {dispatcher.fired} scheduled events, {dispatcher.replayed} replayed"
        )


def _app_reference(reference: str) -> str:
    """File references become absolute: worker processes may start elsewhere."""
    target, sep, attribute = reference.partition(":")
    if target.endswith(".py"):
        return os.path.abspath(target) + (sep + attribute if sep else "")
    return reference


def _configure_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s", stream=sys.stderr)


def _admin_access(database_url: str) -> AdminAccess:
    from eventyard.admin.access import admin_access

    try:
        return admin_access(database_url)
    except EventyardError as exc:
        raise fail(exc) from None


def _admin_access_if_configured(database_url: str) -> AdminAccess | None:
    from eventyard.admin.access import admin_access_if_configured
    from eventyard.admin.auth import TOKEN_ENV

    try:
        access = admin_access_if_configured(database_url)
    except EventyardError as exc:
        raise fail(exc) from None
    if access is None:
        console.print(
            f"admin surface off: set {TOKEN_ENV} (the same on every machine) to serve /admin "
            "with a PostgreSQL database",
            soft_wrap=True,
        )
    return access


def _announce_admin(access: AdminAccess, host: str, port: int) -> None:
    """The admin URL, where the token is (never the token), and a one-time login link."""
    from eventyard.admin.access import announcement, base_url

    for line in announcement(access, base_url(host, port)):
        console.print(line, soft_wrap=True, markup=False, highlight=False)


def _supervise(
    app_reference: str,
    db: str | None,
    *,
    functions: list[str] | None = None,
    http: tuple[str, int] | None = None,
    dispatcher: bool = True,
    async_retry_delay: int | None = None,
) -> None:
    """Load and apply an app, run its supervisor until a signal, exit 0 (1 on a failure)."""
    from eventyard.runtime.apply import apply_app
    from eventyard.runtime.loader import load_app
    from eventyard.runtime.supervisor import Supervisor

    _configure_logging()
    reference = _app_reference(app_reference)
    try:
        application = load_app(reference)
        if functions:
            application = application.with_functions(set(functions))
    except EventyardError as exc:
        raise fail(exc) from None
    with session(db or application.database_url, application.durability) as client:
        apply_app(application, client)
        access = _admin_access_if_configured(client.url) if http is not None else None
        supervisor = Supervisor(
            application,
            reference,
            client,
            http=http,
            run_dispatcher=dispatcher,
            admin_routes=() if access is None else access.routes(lambda: client),
            async_retry_delay_seconds=async_retry_delay,
        ).start()
        supervisor.install_signal_handlers()
        served = (
            f", HTTP on http://{http[0]}:{http[1]}"
            if http is not None and application.routes
            else ""
        )
        console.print(
            f"running {application.name!r} on {client.url}: "
            f"{', '.join(application.functions) or 'no functions'}{served}; Ctrl-C to stop"
        )
        if access is not None and http is not None:
            _announce_admin(access, *http)
        supervisor.wait()
        if supervisor.failure is not None:
            errors.print(f"[red]error[/red]: {supervisor.failure}", soft_wrap=True)
            raise typer.Exit(code=1)
        console.print("stopped")


@app.command("run")
def run_app(
    app_reference: Annotated[str, typer.Argument(help="path/to/app.py or package.module:app")],
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="HTTP address (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8000,
    async_retry_delay: AsyncRetryDelayOption = None,
) -> None:
    """Apply an app and run it: HTTP routes (and the admin surface at /admin), the dispatcher
    and every function, until Ctrl-C."""
    _supervise(app_reference, db, http=(host, port), async_retry_delay=async_retry_delay)


@app.command("serve")
def serve_admin(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="HTTP address (loopback by default).")] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="HTTP port (default 8000; 4566 with --aws)."),
    ] = None,
    aws: Annotated[
        bool,
        typer.Option(
            "--aws", help="Serve the AWS-compatible endpoint (SQS, SNS, EventBridge) instead."
        ),
    ] = False,
    require_auth: Annotated[
        bool,
        typer.Option(
            "--require-auth",
            help="With --aws: refuse requests not SigV4-signed with a key of "
            "$EVENTYARD_AWS_CREDENTIALS (ACCESS_KEY:SECRET[,ACCESS_KEY:SECRET...]).",
        ),
    ] = False,
    account: Annotated[
        str, typer.Option(help="With --aws: the account id in queue URLs and ARNs.")
    ] = "000000000000",
    region: Annotated[str, typer.Option(help="With --aws: the region in ARNs.")] = "us-east-1",
) -> None:
    """Serve the admin API and pages (/admin), or with --aws the AWS-compatible endpoint,
    for a database other processes write."""
    from eventyard.admin.access import base_url
    from eventyard.admin.standalone import serve_until_signal, standalone_app

    _configure_logging()
    if require_auth and not aws:
        raise fail(InvalidParameterValue("--require-auth applies to --aws only"))
    chosen_port = port if port is not None else (4566 if aws else 8000)
    with session(db) as client:
        if aws:
            asgi = _aws_endpoint(client, require_auth, account, region)
            console.print(
                f"serving the AWS-compatible endpoint (SQS, SNS, EventBridge) of {client.url} "
                f"at {base_url(host, chosen_port)}"
                f"{' (SigV4 required)' if require_auth else ' (any credentials)'}; Ctrl-C to stop",
                soft_wrap=True,
            )
        else:
            access = _admin_access(client.url)
            asgi = standalone_app(access, lambda: client)
            console.print(f"serving the admin surface of {client.url}; Ctrl-C to stop")
            _announce_admin(access, host, chosen_port)
        try:
            serve_until_signal(asgi, host, chosen_port)
        except OSError as exc:
            errors.print(f"[red]error[/red]: {exc}", soft_wrap=True)
            raise typer.Exit(code=1) from None
        console.print(f"stopped serving {base_url(host, chosen_port)}")


def _aws_endpoint(client: Client, require_auth: bool, account: str, region: str) -> Starlette:
    try:
        from eventyard.aws.context import AwsSettings, credentials_from_env
        from eventyard.aws.server import endpoint_app
        from eventyard.model.arn import Identity
    except ImportError as exc:
        raise fail(
            InvalidParameterValue(
                f"the AWS endpoint needs botocore ({exc.name} is not installed): "
                "pip install 'eventyard[aws]'"
            )
        ) from None
    try:
        credentials = credentials_from_env()
        settings = AwsSettings(account, region, require_auth, credentials)
    except ValueError as exc:
        raise fail(InvalidParameterValue(str(exc))) from None
    # The events' envelopes and the ARNs inside delivered payloads use the client's identity.
    client.identity = Identity(region=region, account_id=account)
    return endpoint_app(client, settings)


@app.command("worker")
def run_worker(
    app_reference: Annotated[str, typer.Argument(help="path/to/app.py or package.module:app")],
    db: DbOption = None,
    function: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--function", "-f", help="Run only this function; repeatable."),
    ] = None,
    async_retry_delay: AsyncRetryDelayOption = None,
) -> None:
    """Run an app's functions only (no HTTP, no dispatcher), e.g. on another machine."""
    _supervise(
        app_reference,
        db,
        functions=function,
        dispatcher=False,
        async_retry_delay=async_retry_delay,
    )


BenchDbOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--db",
        help="A postgresql:// URL: run the PostgreSQL benchmark on that server (its queue part "
        "here) instead of SQLite files; see `eventyard bench postgres`.",
    ),
]


@bench_app.command("queue")
def bench_queue(
    messages: int = 100_000,
    runs: int = 3,
    durability: Annotated[str, typer.Option(help="full, process or both.")] = "both",
    peers: Annotated[
        bool, typer.Option(help="Also measure huey's SqliteHuey (PGQueuer with --db).")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    db: BenchDbOption = None,
) -> None:
    """Producer process + consumer process, batches of 10, against raw sqlite3 and huey."""
    if db is not None:
        from eventyard.benchmarks.postgres import main as postgres_main

        raise typer.Exit(
            code=postgres_main(
                db=db,
                messages=messages,
                runs=runs,
                durability=durability,
                peers=peers,
                as_json=as_json,
                parts=("queue", "latency"),
            )
        )
    from eventyard.benchmarks.queue import main as bench_main

    raise typer.Exit(
        code=bench_main(
            messages=messages, runs=runs, durability=durability, peers=peers, as_json=as_json
        )
    )


@bench_app.command("postgres")
def bench_postgres(
    db: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--db",
            help="The postgresql:// URL of the server to use (default: start a throwaway one "
            "with pgserver).",
        ),
    ] = None,
    messages: Annotated[int, typer.Option(help="Messages per drain.")] = 50_000,
    runs: int = 3,
    consumers: Annotated[str, typer.Option(help="Consumer process counts.")] = "1,2,4",
    durability: Annotated[str, typer.Option(help="full, process or both.")] = "full",
    peers: Annotated[bool, typer.Option(help="Also measure PGQueuer (asyncpg).")] = True,
    function: Annotated[
        bool, typer.Option(help="Also drain with a no-op queue function (eventyard worker).")
    ] = True,
    latency_sends: Annotated[
        int, typer.Option(help="Single sends timed for send → receive latency (0: skip).")
    ] = 200,
    churn: Annotated[
        int,
        typer.Option(help="Also push this many messages through one queue, watching its size."),
    ] = 0,
    analyze: Annotated[
        bool, typer.Option(help="ANALYZE the tables after each fill (autovacuum would, soon).")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """PostgreSQL: drain with 1/2/4 consumer processes vs raw psycopg and PGQueuer; latency."""
    from eventyard.benchmarks.postgres import main as bench_main

    raise typer.Exit(
        code=bench_main(
            db=db,
            messages=messages,
            runs=runs,
            consumers=consumers,
            durability=durability,
            peers=peers,
            as_json=as_json,
            parts=("queue", *(("function",) if function else ()), "latency"),
            latency_sends=latency_sends,
            churn=churn,
            analyze=analyze,
        )
    )


@bench_app.command("aws")
def bench_aws(
    messages: int = 20_000,
    runs: int = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """boto3 SendMessageBatch / ReceiveMessage / DeleteMessageBatch through `serve --aws`,
    against the Python API on the same SQLite file."""
    from eventyard.benchmarks.aws_api import main as aws_main

    arguments = ["--messages", str(messages), "--runs", str(runs)]
    raise typer.Exit(code=aws_main([*arguments, "--json"] if as_json else arguments))


@bench_app.command("fanout")
def bench_fanout(
    messages: int = 20_000,
    runs: int = 3,
    durability: Annotated[str, typer.Option(help="full, process or both.")] = "both",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Topic publish (2, 5, 10 queues) and bus put_events (300 rules) vs direct send_batch."""
    from eventyard.benchmarks.fanout import main as bench_main

    raise typer.Exit(
        code=bench_main(messages=messages, runs=runs, durability=durability, as_json=as_json)
    )


@bench_app.command("consume")
def bench_consume(
    messages: int = 100_000,
    runs: int = 3,
    durability: Annotated[str, typer.Option(help="full, process or both.")] = "both",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    db: BenchDbOption = None,
) -> None:
    """A no-op queue function (batch 10 and 100, 1 and 2 workers) vs the raw receive loop."""
    if db is not None:
        from eventyard.benchmarks.postgres import main as postgres_main

        raise typer.Exit(
            code=postgres_main(
                db=db,
                messages=messages,
                runs=runs,
                durability=durability,
                as_json=as_json,
                parts=("queue", "function"),
            )
        )
    from eventyard.benchmarks.consume import main as bench_main

    raise typer.Exit(
        code=bench_main(messages=messages, runs=runs, durability=durability, as_json=as_json)
    )


@bench_app.command("checkout")
def bench_checkout(
    clients: Annotated[int, typer.Option(help="Concurrent HTTP clients.")] = 16,
    seconds: Annotated[float, typer.Option(help="How long the clients place orders.")] = 30.0,
    print_ms: Annotated[int, typer.Option(help="Milliseconds each label takes to print.")] = 20,
    runs: Annotated[int, typer.Option(help="Runs of each system (medians when > 1).")] = 1,
    plot: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Draw throughput and latency over the run into this PNG (matplotlib)."),
    ] = None,
    drain_timeout: Annotated[
        float, typer.Option(help="How long to wait for the label backlog after the load.")
    ] = 900.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The checkout example under HTTP load vs the synchronous "fragile way" (save+stock+label)."""
    from eventyard.benchmarks.checkout import main as bench_main

    raise typer.Exit(
        code=bench_main(
            clients=clients,
            seconds=seconds,
            print_ms=print_ms,
            runs=runs,
            plot_file=plot,
            as_json=as_json,
            drain_timeout=drain_timeout,
        )
    )


def main() -> None:
    app()
