"""The AWS-compatible endpoint: one ASGI app answering SQS, SNS and EventBridge.

Which service and operation a request is for:

* ``X-Amz-Target: AmazonSQS.<Operation>`` (SQS, AWS JSON 1.0) or
  ``AWSEvents.<Operation>`` (EventBridge, AWS JSON 1.1): the body is JSON;
* otherwise the query protocol: a form (POST body or query string) with
  ``Action``; SNS and SQS's query actions have different names (a signed
  request also names its service in its credential scope).

Each operation is a handler registered in `context.HANDLERS` by the service
modules (`sqs`, `sns`, `events`); it gets the parameters shaped by the
service model and returns the output structure as a dict. Store calls block,
so handlers run on worker threads; long polls hold one for up to 20 s.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from eventyard.aws import errors, shapes, sigv4
from eventyard.aws.context import HANDLERS, AwsSettings, Call
from eventyard.aws.errors import AwsError
from eventyard.broker.client import Client
from eventyard.errors import EventyardError, StoreError

#: Larger than any valid request (SQS: 1 MiB per batch, base64 and form encoding on top).
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
#: Form fields per query request: the largest valid one (a batch of 10 entries with 10
#: attributes each) has under 1,000; parsing a list looks at every field per item.
MAX_FIELDS: Final = 2_000
_JSON_TARGETS: Final = {"AmazonSQS": ("sqs", "1.0"), "AWSEvents": ("events", "1.1")}
_JSON_NAMESPACES: Final = {"sqs": "com.amazonaws.sqs", "events": None}
_log = logging.getLogger("eventyard.aws")


def _service_of_action(action: str, signed_service: str | None) -> str:
    if signed_service in ("sqs", "sns"):
        return signed_service
    if action in shapes.service_model("sns").operation_names:
        return "sns"
    return "sqs"


class Endpoint:
    """The ASGI endpoint over one client."""

    def __init__(self, client: Client, settings: AwsSettings) -> None:
        self.client = client
        self.settings = settings

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=["GET", "POST"])])

    async def handle(self, request: Request) -> Response:
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        target = request.headers.get("x-amz-target")
        if target:
            return await self._json(request, target, body)
        return await self._query(request, body)

    async def _body(self, request: Request) -> bytes | Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return self._too_large(request)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return self._too_large(request)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, request: Request) -> Response:
        error = AwsError(
            "RequestEntityTooLarge", f"the request body is larger than {MAX_BODY_BYTES} bytes"
        )
        target = request.headers.get("x-amz-target", "")
        service = _JSON_TARGETS.get(target.split(".")[0], ("sqs", ""))[0] if target else "sqs"
        return self._json_error(service, error) if target else self._xml_error(service, error)

    def _authenticate(self, request: Request, body: bytes) -> None:
        if not self.settings.require_auth:
            return
        sigv4.verify(
            method=request.method,
            raw_path=request.scope.get("raw_path", b"/").decode("latin-1") or "/",
            query_string=request.scope.get("query_string", b"").decode("latin-1"),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            credentials=self.settings.credentials,
            now=datetime.datetime.now(datetime.UTC),
        )

    def _base_url(self, request: Request) -> str:
        host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        return f"{request.url.scheme}://{host}"

    # -- JSON protocols ----------------------------------------------------------------
    async def _json(self, request: Request, target: str, body: bytes) -> Response:
        prefix, _, name = target.partition(".")
        service, version = _JSON_TARGETS.get(prefix, ("sqs", "1.0"))
        try:
            if prefix not in _JSON_TARGETS:
                raise AwsError("InvalidAction", f"unknown X-Amz-Target {target!r}")
            self._authenticate(request, body)
            model = shapes.operation(service, name)
            try:
                document = json.loads(body or b"{}")
            except (ValueError, UnicodeDecodeError):
                raise AwsError(
                    "ValidationException" if service == "events" else "InvalidParameterValue",
                    "the request body is not JSON",
                ) from None
            params = shapes.from_json(model.input_shape, document)
            result = await self._run(service, name, params, request)
            payload = shapes.to_json(model.output_shape, result)
        except AwsError as error:
            return self._json_error(service, error)
        return Response(
            shapes.dumps(payload if payload is not None else {}),
            media_type=f"application/x-amz-json-{version}",
        )

    def _json_error(self, service: str, error: AwsError) -> Response:
        status, payload, headers = errors.json_error(
            service, error, namespace=_JSON_NAMESPACES.get(service)
        )
        version = "1.1" if service == "events" else "1.0"
        return Response(
            shapes.dumps(payload),
            status_code=status,
            headers=headers,
            media_type=f"application/x-amz-json-{version}",
        )

    # -- query protocol ----------------------------------------------------------------
    async def _query(self, request: Request, body: bytes) -> Response:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._xml_error(
                "sqs", AwsError("InvalidParameterValue", "the form is not UTF-8")
            )
        try:
            form = dict(
                parse_qsl(request.url.query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
            )
            form.update(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS))
        except ValueError:
            error = AwsError(
                "InvalidParameterValue", f"the request has more than {MAX_FIELDS} form fields"
            )
            return self._xml_error("sqs", error)
        action = form.pop("Action", "")
        form.pop("Version", None)
        service = _service_of_action(
            action, sigv4.credential_scope_service(request.headers.get("authorization"))
        )
        call_id = str(uuid.uuid4())
        try:
            if not action:
                raise AwsError("MissingParameter", "the request must contain the parameter Action")
            self._authenticate(request, body)
            model = shapes.operation(service, action)
            params = shapes.from_query(model.input_shape, form)
            if service == "sqs" and "QueueUrl" not in params and request.url.path.count("/") >= 2:
                params["QueueUrl"] = str(request.url).split("?")[0]
            result = await self._run(service, action, params, request, call_id)
            xml = shapes.to_xml(model, result, call_id)
        except AwsError as error:
            return self._xml_error(service, error, call_id)
        return Response(xml, media_type="text/xml")

    def _xml_error(self, service: str, error: AwsError, request_id: str = "0") -> Response:
        status, xml = errors.xml_error(service, error, request_id)
        return Response(xml, status_code=status, media_type="text/xml")

    # -- running a handler -------------------------------------------------------------
    async def _run(
        self,
        service: str,
        name: str,
        params: dict[str, Any],
        request: Request,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        handler = HANDLERS.get((service, name))
        if handler is None:
            raise AwsError("InvalidAction", f"eventyard does not support {service} {name} yet")
        call = Call(self.client, self.settings, service, name, params, self._base_url(request))
        if request_id is not None:
            call.request_id = request_id
        try:
            return await run_in_threadpool(handler, call)
        except AwsError:
            raise
        except StoreError as exc:
            _log.exception("aws %s %s: the store failed", service, name)
            raise AwsError(exc.code if exc.retryable else "InternalError", str(exc)) from None
        except EventyardError as exc:
            raise AwsError.of(exc) from None


def endpoint_app(client: Client, settings: AwsSettings | None = None) -> Starlette:
    """The ASGI app of the AWS-compatible endpoint for ``client``'s database."""
    from eventyard.aws import events, sns, sqs  # noqa: F401  (they register their handlers)

    return Endpoint(client, settings or AwsSettings()).app()
