"""The OpenAPI 3.1 document of the admin surface, built from the route declarations.

Component schemas are the pydantic models' JSON Schemas (request models in
their validation form, response models in their serialization form), so the
document describes exactly what the server validates and answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

import eventyard
from eventyard.admin.endpoint import API_PREFIX, ApiRoute
from eventyard.admin.models import ErrorBody

OPENAPI_PATH: Final = "/openapi.json"
_REF: Final = "#/components/schemas/{model}"
_PARAMETER: Final = re.compile(r"{([^}:]+)}")

_ERRORS: Final = {
    "400": "Bad input: a field, a value or a limit named in the message",
    "401": "No valid Bearer token or session cookie",
    "403": "A cookie-authenticated change without the CSRF token",
    "404": "No such queue, topic, bus, rule, task or message",
    "409": "The state does not allow it (e.g. a redrive of that queue is running)",
    "413": "The body is larger than the limit",
    "503": "Retry later (see Retry-After): the database is busy, or a purge within 60 s",
}

#: The HTML pages, static files and metrics: listed so that the document names every route.
#: (method, path, operation id, summary, media type, whether it needs the token or a session)
_PAGES: Final[tuple[tuple[str, str, str, str, str, bool], ...]] = (
    (
        "get",
        "/admin/",
        "admin_home",
        "Dashboard: topology, queues, charts (HTML)",
        "text/html",
        True,
    ),
    (
        "get",
        "/admin/queues/{queue}",
        "queue_page",
        "Dashboard: a queue and its messages; for a DLQ redrive and delete (HTML)",
        "text/html",
        True,
    ),
    (
        "get",
        "/admin/queues/{queue}/messages/{message_id}",
        "message_page",
        "Dashboard: one message, its attributes and failure history (HTML)",
        "text/html",
        True,
    ),
    ("get", "/admin/functions", "functions_page", "Dashboard: functions (HTML)", "text/html", True),
    ("get", "/admin/static/{name}", "static", "The dashboard's CSS and JS", "text/plain", True),
    (
        "get",
        "/admin/login",
        "login_form",
        "The login form, or ?once=CODE: a one-time link",
        "text/html",
        False,
    ),
    (
        "post",
        "/admin/login",
        "login",
        "Log in with the token (form field token)",
        "text/html",
        False,
    ),
    ("post", "/admin/logout", "logout", "Log out (form field csrf)", "text/html", False),
    (
        "get",
        "/metrics",
        "metrics",
        "Prometheus metrics (text exposition format)",
        "text/plain",
        True,
    ),
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model)}}


def _operation(route: ApiRoute) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAMETER.findall(route.path)
    ]
    for query in route.query:
        schema: dict[str, Any] = {"type": query.kind}
        if query.minimum is not None:
            schema["minimum"] = query.minimum
        if query.maximum is not None:
            schema["maximum"] = query.maximum
        parameters.append(
            {
                "name": query.name,
                "in": "query",
                "required": False,
                "description": query.description,
                "schema": schema,
            }
        )
    responses: dict[str, Any] = {
        str(route.status): {"description": "OK", "content": _json(route.response)}
    }
    for status, description in _ERRORS.items():
        responses[status] = {"description": description, "content": _json(ErrorBody)}
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "parameters": parameters,
        "responses": responses,
    }
    if route.request is not None:
        operation["requestBody"] = {"required": False, "content": _json(route.request)}
    return operation


def openapi_document(routes: Sequence[ApiRoute]) -> dict[str, Any]:
    """The document for ``routes`` (all under ``/admin/api``) and the admin pages."""
    requests = {route.request for route in routes if route.request is not None}
    responses = {route.response for route in routes} | {ErrorBody}
    entries: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (model, "validation") for model in sorted(requests, key=lambda m: m.__name__)
    ]
    entries += [(model, "serialization") for model in sorted(responses, key=lambda m: m.__name__)]
    _, schemas = models_json_schema(entries, ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.full_path, {})[route.method.lower()] = _operation(route)
    paths[API_PREFIX + OPENAPI_PATH] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}},
                "401": {"description": _ERRORS["401"], "content": _json(ErrorBody)},
            },
        }
    }
    for method, path, name, summary, media_type, guarded in _PAGES:
        operation: dict[str, Any] = {
            "operationId": name,
            "summary": summary,
            "responses": {"200": {"description": "OK", "content": {media_type: {}}}},
        }
        if not guarded:
            operation["security"] = []
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "eventyard admin API",
            "version": eventyard.__version__,
            "description": (
                "Operate an eventyard database: queues, dead-letter queues, topics, buses, "
                "rules and functions. Authenticate with Authorization: Bearer <admin token>."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "eventyard_session",
                    "description": "from /admin/login; changes also need X-CSRF-Token",
                },
            },
        },
    }
