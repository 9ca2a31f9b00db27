"""Requests and responses shaped by the AWS service models that ship in botocore.

The SDKs build every request from a service model (``botocore/data/<service>/
<version>/service-2.json``) and parse every response with it; the endpoint
reads and writes with the same models, so a field is named, nested, listed
and typed exactly as boto3 and the AWS CLI expect, for both wire styles:

* the JSON protocols (SQS ``awsJson1_0``, EventBridge ``awsJson1_1``): the
  body is the input structure as JSON; blobs are base64, timestamps epoch
  seconds;
* the query protocol (SNS, and SQS's older one): form fields flattened with
  the model's ``locationName``s (``Attribute.1.Name``,
  ``Attributes.entry.1.key``, ``Entries.member.1.Id``), answered with XML
  (``<ActionResponse><ActionResult>...``).

Both produce the same Python value for an operation's handler: dicts keyed
by the model's member names, ``bytes`` for blobs, ``float`` epoch seconds for
timestamps. Every value is checked against its shape on the way in (a field
of the wrong type is `InvalidParameterValue` naming it).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import importlib
import json
import math
from collections.abc import Mapping
from typing import Any, Final
from xml.sax.saxutils import escape

from botocore.loaders import create_loader
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from eventyard.aws.errors import AwsError

#: Services whose botocore model moved from the query protocol to JSON and lost the query
#: wire's names and legacy error codes on the way: a module that puts them back
#: (``with_query_names(raw model) -> raw model``), as the service still answers both.
_QUERY_NAMES: Final = {"sqs": "eventyard.aws.sqs_query_names"}


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The service model botocore ships for ``name`` ("sqs", "sns", "events")."""
    raw = create_loader().load_service_model(name, "service-2")
    if name in _QUERY_NAMES:
        raw = importlib.import_module(_QUERY_NAMES[name]).with_query_names(raw)
    return ServiceModel(raw, service_name=name)


def operation(service: str, name: str) -> OperationModel:
    model = service_model(service)
    if name not in model.operation_names:
        raise AwsError(
            "InvalidAction",
            f"the action {name!r} is not valid for {service}, or not supported by eventyard",
        )
    return model.operation_model(name)


# -- input --------------------------------------------------------------------------------


def _invalid(path: str, value: object, expected: str) -> AwsError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return AwsError(
        "InvalidParameterValue", f"{path or 'the request'}: expected {expected}, got {shown}"
    )


def from_json(shape: Shape | None, value: object, path: str = "") -> Any:
    """A JSON protocol request body (already decoded) checked and converted by ``shape``."""
    if shape is None:
        return {}
    if value is None:
        return None
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise _invalid(path, value, "an object")
        result: dict[str, Any] = {}
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                continue  # AWS ignores unknown members too
            converted = from_json(member, item, f"{path}.{key}" if path else key)
            if converted is not None:
                result[key] = converted
        return result
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise _invalid(path, value, "a list")
        return [from_json(shape.member, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise _invalid(path, value, "a map")
        return {
            from_json(shape.key, k, f"{path} key"): from_json(shape.value, v, f"{path}.{k}")
            for k, v in value.items()
        }
    return _scalar(kind, value, path, from_text=False)


def _scalar(kind: str, value: object, path: str, *, from_text: bool) -> Any:
    if kind == "string":
        if not isinstance(value, str):
            raise _invalid(path, value, "a string")
        return value
    if kind in ("integer", "long"):
        if from_text and isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                raise _invalid(path, value, "a whole number") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(path, value, "a whole number")
        return value
    if kind in ("float", "double"):
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise _invalid(path, value, "a number") from None
        if not math.isfinite(number):
            raise _invalid(path, value, "a finite number")
        return number
    if kind == "boolean":
        if from_text and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise _invalid(path, value, "true or false")
        return value
    if kind == "blob":
        if isinstance(value, bytes):
            return value
        if not isinstance(value, str):
            raise _invalid(path, value, "base64 text")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid(path, value, "base64 text") from None
    if kind == "timestamp":
        return _timestamp(value, path)
    raise _invalid(path, value, f"a value of type {kind}")


def _timestamp(value: object, path: str) -> float:
    if isinstance(value, bool):
        raise _invalid(path, value, "a timestamp")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(path, value, "an ISO 8601 or epoch timestamp") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed.timestamp()
    raise _invalid(path, value, "a timestamp")


def from_query(shape: Shape | None, form: Mapping[str, str]) -> dict[str, Any]:
    """A query protocol request (form fields, without Action and Version) as a dict."""
    if shape is None:
        return {}
    result = _query_value(shape, form, "")
    return result if isinstance(result, dict) else {}


def _present(form: Mapping[str, str], prefix: str) -> bool:
    if prefix in form:
        return True
    dotted = prefix + "."
    return any(key.startswith(dotted) for key in form)


def _list_items_prefix(shape: ListShape, prefix: str) -> str:
    """Where a list's items are numbered (as botocore's QuerySerializer writes them)."""
    if not shape.serialization.get("flattened"):
        return f"{prefix}.{shape.member.serialization.get('name', 'member')}"
    item_name = shape.member.serialization.get("name")
    if not item_name:
        return prefix
    return ".".join([*prefix.split(".")[:-1], item_name])


def _query_value(shape: Shape, form: Mapping[str, str], prefix: str) -> Any:
    if isinstance(shape, StructureShape):
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            member_prefix = f"{prefix}.{key}" if prefix else key
            present = _present(form, member_prefix)
            if not present and isinstance(member, ListShape):
                present = _present(form, _list_items_prefix(member, member_prefix))
            if present:
                result[name] = _query_value(member, form, member_prefix)
        return result
    if isinstance(shape, ListShape):
        if form.get(prefix) == "":
            return []
        items_prefix = _list_items_prefix(shape, prefix)
        items = []
        index = 1
        while _present(form, f"{items_prefix}.{index}"):
            items.append(_query_value(shape.member, form, f"{items_prefix}.{index}"))
            index += 1
        return items
    if isinstance(shape, MapShape):
        entry_prefix = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        mapping: dict[Any, Any] = {}
        index = 1
        while _present(form, f"{entry_prefix}.{index}"):
            entry = f"{entry_prefix}.{index}"
            key = _query_value(shape.key, form, f"{entry}.{key_name}")
            mapping[key] = _query_value(shape.value, form, f"{entry}.{value_name}")
            index += 1
        return mapping
    if prefix not in form:
        return None
    return _scalar(shape.type_name, form[prefix], prefix, from_text=True)


# -- output -------------------------------------------------------------------------------


def to_json(shape: Shape | None, value: Any) -> Any:
    """A handler's result as the JSON protocols send it."""
    if shape is None or value is None:
        return {} if shape is None else None
    if isinstance(shape, StructureShape):
        return {
            key: to_json(shape.members[key], item)
            for key, item in value.items()
            if key in shape.members and item is not None
        }
    if isinstance(shape, ListShape):
        return [to_json(shape.member, item) for item in value]
    if isinstance(shape, MapShape):
        return {key: to_json(shape.value, item) for key, item in value.items()}
    if shape.type_name == "blob":
        data = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(data).decode("ascii")
    if shape.type_name == "timestamp":
        return float(value)
    return value


def to_xml(operation_model: OperationModel, value: Mapping[str, Any], request_id: str) -> str:
    """A handler's result as the query protocol answers it."""
    name = operation_model.name
    namespace = operation_model.metadata.get("xmlNamespace", "")
    shape = operation_model.output_shape
    parts = [f'<?xml version="1.0"?><{name}Response xmlns="{escape(namespace)}">']
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        parts.append(f"<{wrapper}>")
        parts.append(_xml_members(shape, value))
        parts.append(f"</{wrapper}>")
    parts.append(
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>"
    )
    return "".join(parts)


def _xml_members(shape: StructureShape, value: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key, member in shape.members.items():
        item = value.get(key)
        if item is None:
            continue
        tag = member.serialization.get("name", key)
        if isinstance(member, ListShape) and member.serialization.get("flattened"):
            item_tag = member.member.serialization.get("name", tag)
            parts.extend(
                f"<{item_tag}>{_xml_value(member.member, element)}</{item_tag}>" for element in item
            )
        elif isinstance(member, MapShape) and member.serialization.get("flattened"):
            parts.extend(f"<{tag}>{_xml_entry(member, k, v)}</{tag}>" for k, v in item.items())
        else:
            parts.append(f"<{tag}>{_xml_value(member, item)}</{tag}>")
    return "".join(parts)


def _xml_entry(shape: MapShape, key: Any, value: Any) -> str:
    key_tag = shape.key.serialization.get("name", "key")
    value_tag = shape.value.serialization.get("name", "value")
    return (
        f"<{key_tag}>{_xml_value(shape.key, key)}</{key_tag}>"
        f"<{value_tag}>{_xml_value(shape.value, value)}</{value_tag}>"
    )


def _xml_value(shape: Shape, value: Any) -> str:
    if isinstance(shape, StructureShape):
        return _xml_members(shape, value)
    if isinstance(shape, ListShape):
        tag = shape.member.serialization.get("name", "member")
        return "".join(f"<{tag}>{_xml_value(shape.member, item)}</{tag}>" for item in value)
    if isinstance(shape, MapShape):
        return "".join(f"<entry>{_xml_entry(shape, k, v)}</entry>" for k, v in value.items())
    if shape.type_name == "blob":
        data = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(data).decode("ascii")
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        moment = datetime.datetime.fromtimestamp(float(value), datetime.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return escape(str(value), {'"': "&quot;", "\r": "&#13;"})


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
