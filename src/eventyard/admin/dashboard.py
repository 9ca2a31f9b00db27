"""The dashboard: server-rendered pages under ``/admin`` and their static files.

- ``/admin/``: the topology (topics → subscriptions → queues → functions;
  buses → rules → targets) with depths and error rates, every queue, and
  charts of throughput and depth over time;
- ``/admin/queues/{queue}``: a queue's figures and its messages (peeked,
  paginated), each with its failure history; for a dead-letter queue,
  Redrive / Delete of the selected messages and "redrive all" with progress;
- ``/admin/queues/{queue}/messages/{message_id}``: one message, its body
  pretty-printed, its attributes and its failures with their tracebacks;
- ``/admin/functions``: every function with its figures and what feeds it.

Pages are Jinja2 templates with autoescaping on, so a message body (or any
name) is shown as text, never as markup. They carry a strict Content
Security Policy (scripts and styles only from ``/admin/static``, no inline
script), so even a slip in escaping could not run a script. The little
JavaScript (``static/dashboard.js``) refreshes the figures every few
seconds (it fetches the page again and swaps the parts marked
``data-live``), draws the charts from ``GET /admin/api/queues``, and sends
the changes to the JSON API with the session's CSRF token (embedded in the
page). Nothing is fetched from anywhere else.

Logged out, a page redirects to the login form; a static file answers 401.
Which function reads which queue is not in the database: when the surface is
served by `eventyard run` (or the demo), the app is on the ASGI state
(``eventyard_app``) and the links are drawn; `eventyard serve` shows the
functions without them.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Final

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from eventyard.admin import shapes
from eventyard.admin.api import (
    STATS_WINDOW_SECONDS,
    get_queue,
    list_functions,
    list_queues,
    peek_messages,
)
from eventyard.admin.endpoint import Call
from eventyard.admin.guard import CSRF_FIELD, Guard, Principal
from eventyard.admin.login import LOGIN_PATH
from eventyard.admin.models import FunctionBody, PeekedMessageBody, QueueSummary
from eventyard.admin.replies import NO_STORE, PAGE_HEADERS, ApiError, page, reply_for
from eventyard.broker.client import Client
from eventyard.errors import MessageNotFound, QueueDoesNotExist
from eventyard.model.internal import is_internal_queue
from eventyard.model.names import shorten

#: Scripts, styles and fetches from this server only; no inline script at all.
DASHBOARD_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DASHBOARD_HEADERS: Final = {**PAGE_HEADERS, "Content-Security-Policy": DASHBOARD_CSP}
STATIC_TYPES: Final = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
#: The app served beside the surface, if any (set by `Supervisor`): queue → function links.
APP_STATE: Final = "eventyard_app"
#: How far the message view looks for a message (peek pages of 1,000).
MESSAGE_SCAN_PAGES: Final = 20
PREVIEW_CHARS: Final = 160

_TEMPLATES: Final = jinja2.Environment(
    loader=jinja2.PackageLoader("eventyard.admin", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- static files --------------------------------------------------------------------


@dataclass(frozen=True)
class StaticFile:
    content: bytes
    media_type: str
    version: str


def _load_static() -> dict[str, StaticFile]:
    folder = files("eventyard.admin").joinpath("static")
    loaded = {}
    for name, media_type in STATIC_TYPES.items():
        content = folder.joinpath(name).read_bytes()
        loaded[name] = StaticFile(content, media_type, hashlib.sha256(content).hexdigest()[:12])
    return loaded


_STATIC: Final = _load_static()


def static_url(name: str) -> str:
    """The file's URL, with its content hash so a browser may keep it (a new one, new URL)."""
    return f"/admin/static/{name}?v={_STATIC[name].version}"


# -- formatting ----------------------------------------------------------------------


def _when(milliseconds: int | None) -> str:
    if not milliseconds:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(milliseconds / 1000)) + " UTC"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _rate(errors: int, invocations: int) -> str:
    return "" if not invocations else f"{100 * errors / invocations:.0f}%"


def pretty_body(body: Any, body_type: str) -> str:
    """The body for reading: JSON indented (also JSON sent as text); text as it is."""
    if body_type == "json":
        return json.dumps(body, indent=2, ensure_ascii=False, sort_keys=False)
    if body_type == "text" and isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return body
        if isinstance(parsed, dict | list):
            return json.dumps(parsed, indent=2, ensure_ascii=False)
        return body
    return f"(bytes, base64) {body}"


def preview(body: Any, body_type: str) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    if body_type == "bytes":
        text = f"(bytes) {text}"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


_TEMPLATES.filters.update(
    when=_when, age=_age, ms=_ms, pretty_json=_pretty_json, preview=preview, pretty=pretty_body
)
_TEMPLATES.globals.update(static=static_url, rate=_rate, csrf_field=CSRF_FIELD)


# -- what the pages show -------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    """A way out of a topic or a bus: a subscription or a rule's target."""

    route: str  # "subscription" or the rule's name
    detail: str | None  # filter policy / pattern / schedule, as text
    enabled: bool
    kind: str  # queue, function, topic, bus, http, https, webhook
    endpoint: str
    queue: QueueSummary | None = None
    functions: list[FunctionBody] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    kind: str  # topic or bus
    name: str
    legs: list[Leg]


class Figures:
    """The queues and functions of one page view, read once each."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.queues = {q.name: q for q in list_queues(call).queues}
        self.functions = {f.name: f for f in list_functions(call).functions}
        app = getattr(call.request.app.state, APP_STATE, None)
        self.consumers: dict[str, list[str]] = {}
        self.app_known = app is not None
        if app is not None:
            for spec in app.declared_functions.values():
                if spec.trigger == "queue" and spec.queue is not None:
                    self.consumers.setdefault(spec.queue, []).append(spec.name)
                elif spec.name not in self.functions:
                    self.functions[spec.name] = self.function(spec.name)
        for names in self.consumers.values():
            for name in names:
                if name not in self.functions:
                    self.functions[name] = self.function(name)

    @staticmethod
    def function(name: str) -> FunctionBody:
        """A function that has not run yet: all zeros."""
        return shapes.function(name, None, pending=None, window_seconds=STATS_WINDOW_SECONDS)

    def fed_by(self, queue: str) -> list[FunctionBody]:
        return [self.functions[name] for name in self.consumers.get(queue, [])]

    def leg(self, route: str, detail: Any, enabled: bool, kind: str, endpoint: str) -> Leg:
        text = None if detail in (None, {}) else json.dumps(detail, ensure_ascii=False)
        if kind in ("queue", "sqs"):
            queue = self.queues.get(endpoint)
            return Leg(route, text, enabled, "queue", endpoint, queue, self.fed_by(endpoint))
        if kind == "function":
            known = self.functions.get(endpoint) or self.function(endpoint)
            return Leg(route, text, enabled, "function", endpoint, None, [known])
        return Leg(route, text, enabled, kind, endpoint)


@dataclass(frozen=True)
class Overview:
    sources: list[Source]
    other_queues: list[Leg]  # queues no topic or rule feeds (dead-letter queues aside)
    queues: list[QueueSummary]
    app_known: bool


def overview(call: Call) -> Overview:
    figures = Figures(call)
    client = call.client
    sources: list[Source] = []
    fed: set[str] = set()
    by_topic: dict[str, list[Leg]] = {}
    for item in client.list_subscriptions():
        leg = figures.leg(
            "subscription" + (" (raw)" if item.config.raw_message_delivery else ""),
            shapes.plain(item.filter_policy),
            True,
            item.protocol,
            item.endpoint,
        )
        by_topic.setdefault(item.topic, []).append(leg)
    for record in client.store.list_topics():
        legs = by_topic.get(record.name, [])
        fed.update(leg.endpoint for leg in legs if leg.kind == "queue")
        sources.append(Source("topic", record.name, legs))
    for bus in client.store.list_buses():
        legs = []
        for rule in client.bus(bus.name).rules():
            detail = shapes.plain(rule.pattern) if rule.schedule is None else rule.schedule
            for target in rule.targets():
                legs.append(
                    figures.leg(rule.name, detail, rule.enabled, target.kind, target.endpoint)
                )
            if not rule.targets():
                legs.append(figures.leg(rule.name, detail, rule.enabled, "none", "(no target)"))
        fed.update(leg.endpoint for leg in legs if leg.kind == "queue")
        sources.append(Source("bus", bus.name, legs))
    dead_letter_queues = {q.name for q in figures.queues.values() if q.is_dlq}
    others = [
        figures.leg("", None, True, "queue", name)
        for name in figures.queues
        if name not in fed and name not in dead_letter_queues
    ]
    return Overview(sources, others, list(figures.queues.values()), figures.app_known)


@dataclass(frozen=True)
class FunctionRow:
    function: FunctionBody
    fed_by: list[str]


def function_rows(call: Call) -> tuple[list[FunctionRow], bool]:
    figures = Figures(call)
    feeds: dict[str, list[str]] = {}
    for queue, names in figures.consumers.items():
        for name in names:
            feeds.setdefault(name, []).append(f"queue {queue}")
    for item in call.client.list_subscriptions():
        if item.protocol == "function":
            feeds.setdefault(item.endpoint, []).append(f"topic {item.topic}")
    for bus in call.client.store.list_buses():
        for rule in call.client.bus(bus.name).rules():
            for target in rule.targets():
                if target.kind == "function":
                    feeds.setdefault(target.endpoint, []).append(f"rule {bus.name}/{rule.name}")
    rows = [
        FunctionRow(function, feeds.get(name, []))
        for name, function in sorted(figures.functions.items())
    ]
    return rows, figures.app_known


def find_message(call: Call, queue_name: str, message_id: str) -> PeekedMessageBody:
    """The message, looked for in the first `MESSAGE_SCAN_PAGES` thousand of the queue."""
    if is_internal_queue(queue_name):
        raise QueueDoesNotExist(f"queue {shorten(queue_name)} does not exist")
    queue = call.client.get_queue(queue_name)
    token: str | None = None
    for _ in range(MESSAGE_SCAN_PAGES):
        found = queue.peek(1000, token)
        for message in found.messages:
            if message.message_id == message_id:
                return shapes.peeked(message, call.client.message_failures(message_id))
        token = found.next_page_token
        if token is None:
            break
    raise MessageNotFound(
        f"no message {shorten(message_id)} in queue {queue_name} (redriven, deleted, "
        "received and deleted by its function, or expired)"
    )


# -- rendering -----------------------------------------------------------------------


def render(template: str, call: Call | None, **context: Any) -> str:
    session = None if call is None else call.principal.session
    csrf = None if session is None or call is None else session.csrf_token(call.guard.keys)
    return _TEMPLATES.get_template(template).render(
        csrf=csrf, now=time.strftime("%H:%M:%S"), **context
    )


def overview_page(call: Call) -> str:
    return render("overview.html", call, title="Overview", nav="overview", view=overview(call))


def queue_page(call: Call) -> str:
    queue = get_queue(call)
    messages = peek_messages(call)
    return render(
        "queue.html",
        call,
        title=queue.name,
        nav="queues",
        queue=queue,
        messages=messages,
        first_page=call.request.query_params.get("page_token") is None,
    )


def message_page(call: Call) -> str:
    queue_name, message_id = call.path("queue"), call.path("message_id")
    message = find_message(call, queue_name, message_id)
    queue = get_queue(call)
    return render(
        "message.html",
        call,
        title=f"Message {message_id}",
        nav="queues",
        queue=queue,
        message=message,
    )


def functions_page(call: Call) -> str:
    rows, app_known = function_rows(call)
    return render(
        "functions.html",
        call,
        title="Functions",
        nav="functions",
        rows=rows,
        app_known=app_known,
        window_minutes=STATS_WINDOW_SECONDS // 60,
    )


def _error_page(exc: Exception, where: str, principal: Principal | None) -> Response:
    reply = reply_for(exc, where)
    body = json.loads(bytes(reply.body))
    html = _TEMPLATES.get_template("error.html").render(
        csrf=None,
        now=time.strftime("%H:%M:%S"),
        title=body["error"],
        nav="",
        status=reply.status_code,
        error=body["error"],
        message=body["message"],
    )
    return page(reply.status_code, html, DASHBOARD_HEADERS)


def page_endpoint(
    guard: Guard, client: Callable[[], Client], build: Callable[[Call], str]
) -> Callable[[Request], Any]:
    """A page: the login form for strangers, else ``build`` run on a worker thread."""

    async def endpoint(request: Request) -> Response:
        principal = guard.identify(request)
        if principal is None:
            return RedirectResponse(LOGIN_PATH, 303, NO_STORE)
        try:
            call = Call(request, await run_in_threadpool(client), principal, guard, None)
            html = await run_in_threadpool(build, call)
        except Exception as exc:
            return _error_page(exc, f"GET {request.url.path}", principal)
        return page(200, html, DASHBOARD_HEADERS)

    return endpoint


def static_endpoint(guard: Guard) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            await guard.admit(request)
            found = _STATIC.get(request.path_params["name"])
            if found is None:
                raise ApiError(404, "NotFound", "no such static file")
        except ApiError as exc:
            return reply_for(exc, request.url.path)
        cache = "private, max-age=86400" if request.query_params.get("v") else "no-cache"
        return Response(
            found.content,
            media_type=found.media_type,
            headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
        )

    return endpoint


def metrics_endpoint(guard: Guard, client: Callable[[], Client]) -> Callable[[Request], Any]:
    """``GET /metrics``: Prometheus text, for a Bearer token (or a session cookie)."""
    from eventyard.admin.metrics import render as render_metrics

    async def endpoint(request: Request) -> Response:
        try:
            await guard.admit(request)
            text, content_type = await run_in_threadpool(render_metrics, client)
        except Exception as exc:
            return reply_for(exc, "GET /metrics")
        return Response(text, headers={**NO_STORE, "Content-Type": content_type})

    return endpoint


def dashboard_routes(guard: Guard, client: Callable[[], Client]) -> list[Route]:
    """The pages and static files, relative to the ``/admin`` mount."""
    pages: Mapping[str, tuple[str, Callable[[Call], str]]] = {
        "/": ("admin_home", overview_page),
        "/queues/{queue}": ("queue_page", queue_page),
        "/queues/{queue}/messages/{message_id}": ("message_page", message_page),
        "/functions": ("functions_page", functions_page),
    }
    routes = [
        Route(path, page_endpoint(guard, client, build), methods=["GET"], name=name)
        for path, (name, build) in pages.items()
    ]
    routes.append(Route("/static/{name}", static_endpoint(guard), methods=["GET"], name="static"))
    return routes
