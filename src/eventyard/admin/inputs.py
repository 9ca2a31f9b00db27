"""Reading what a request sends: a bounded body, a validated JSON model, query values, forms.

A body is read at most once per request (kept on ``request.state``), so the
guard may look for a ``csrf`` form field before the handler reads the same
body. Bad input raises `ApiError` with a 4xx status naming the field, the
value and the limit.
"""

from __future__ import annotations

import json
from typing import Final, TypeVar
from urllib.parse import parse_qs

import pydantic
from starlette.requests import ClientDisconnect, Request

from eventyard.admin.replies import ApiError
from eventyard.model.names import shorten

#: The largest request body: a message may be 1 MiB, and JSON escaping can grow it.
MAX_BODY_BYTES: Final = 2 * 1_048_576
#: The largest login or logout form.
MAX_FORM_BYTES: Final = 8_192

M = TypeVar("M", bound=pydantic.BaseModel)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (declared or streamed)."""
    cached = getattr(request.state, "admin_body", None)
    if isinstance(cached, bytes):
        return cached
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise ApiError(
            400, "BadRequest", f"the Content-Length header {shorten(declared)} is not a number"
        )
    if declared is not None and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ApiError(400, "ClientDisconnected", "the client left before its body") from None
    body = b"".join(chunks)
    request.state.admin_body = body
    return body


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "RequestEntityTooLarge",
        f"the request body is larger than the limit of {limit} bytes",
        {"Connection": "close"},
    )


async def parse_model(request: Request, model: type[M]) -> M:
    """The JSON body validated against ``model`` (an empty body counts as ``{}``).

    An HTML form's fields (urlencoded, all text; ``csrf`` left out) do as well, so a page
    may post a plain form to a route without fields or with text fields."""
    if _is_form(request):
        fields = await form_fields(request, MAX_BODY_BYTES)
        fields.pop("csrf", None)
        try:
            return model.model_validate(fields)
        except pydantic.ValidationError as exc:
            raise ApiError(400, "InvalidRequest", describe(exc)) from None
    raw = await read_body(request)
    if not raw.strip():
        raw = b"{}"
    try:
        json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "MalformedJSON", f"the request body is not valid JSON: {exc}") from None
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        raise ApiError(400, "InvalidRequest", describe(exc)) from None


def describe(exc: pydantic.ValidationError) -> str:
    """One line per problem: ``field: what is wrong (got value)``."""
    problems = []
    for error in exc.errors(include_url=False)[:10]:
        where = ".".join(str(part) for part in error["loc"]) or "body"
        given = f" (got {shorten(error['input'])})" if error["type"] != "missing" else ""
        problems.append(f"{where}: {error['msg']}{given}")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter from ``low`` to ``high``."""
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ApiError(
            400,
            "InvalidParameterValue",
            f"query parameter {name} must be an integer from {low} to {high}, got {shorten(text)}",
        )
    return int(text)


def query_text(request: Request, name: str) -> str | None:
    return request.query_params.get(name)


async def form_fields(request: Request, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body's fields (first value of each)."""
    if not _is_form(request):
        return {}
    raw = await read_body(request, limit)
    try:
        parsed = parse_qs(raw.decode("utf-8"), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in parsed.items() if values}


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return content_type == "application/x-www-form-urlencoded"
