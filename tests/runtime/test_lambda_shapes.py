"""AWS Lambda shapes: AWS's documented sample events, key for key, and Powertools reading them.

The ``AWS_*`` samples below keep the keys of the sample events in AWS's
documentation ("Using Lambda with Amazon SQS", "Using Lambda with Amazon
SNS", "Create AWS Lambda proxy integrations for HTTP APIs", payload format
2.0); the values are placeholders. Powertools for AWS Lambda (its batch
processor, data classes, parser models and HTTP resolver) runs unchanged on
what `eventyard.runtime.lambda_shapes` builds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from decimal import Decimal
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEventV2,
    EventBridgeEvent,
    SNSEvent,
    SQSEvent,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    EventBridgeModel,
    SnsModel,
    SqsModel,
)

from eventyard.errors import EventyardError
from eventyard.model.arn import Identity
from eventyard.model.attributes import encode_attributes
from eventyard.model.body import encode_body
from eventyard.model.bus_config import build_event
from eventyard.model.message import Message
from eventyard.model.sns import (
    SIGNING_CERT_URL,
    UNSIGNED,
    NotificationText,
    sns_timestamp,
    unsubscribe_url_json,
)
from eventyard.runtime.lambda_shapes import (
    INTERNAL_SERVER_ERROR,
    LambdaContext,
    MalformedBatchResponse,
    MalformedHttpResponse,
    batch_item_failures,
    eventbridge_event,
    http_api_event,
    http_api_response,
    sns_event,
    sqs_event,
)
from eventyard.runtime.wire import record_of

IDENTITY = Identity()
REGION = IDENTITY.region

# -- AWS's sample events (keys as documented; placeholder values) ---------------

AWS_SQS_RECORD: dict[str, Any] = {
    "messageId": "m",
    "receiptHandle": "r",
    "body": "Test message.",
    "attributes": {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185",
    },
    "messageAttributes": {
        "myAttribute": {
            "stringValue": "myValue",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    },
    "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
    "awsRegion": "us-east-2",
}
AWS_SQS_FIFO_ATTRIBUTES = {
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
}
AWS_SNS_RECORD: dict[str, Any] = {
    "EventVersion": "1.0",
    "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:sns-lambda:21be56ed",
    "EventSource": "aws:sns",
    "Sns": {
        "SignatureVersion": "1",
        "Timestamp": "2019-01-02T12:45:07.000Z",
        "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
        "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "Message": "Hello from SNS!",
        "MessageAttributes": {
            "Test": {"Type": "String", "Value": "TestString"},
            "TestBinary": {"Type": "Binary", "Value": "TestBinary"},
        },
        "Type": "Notification",
        "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&...",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:sns-lambda",
        "Subject": "TestInvoke",
    },
}
AWS_HTTP_API_KEYS = {
    "version",
    "routeKey",
    "rawPath",
    "rawQueryString",
    "cookies",
    "headers",
    "queryStringParameters",
    "requestContext",
    "body",
    "pathParameters",
    "isBase64Encoded",
    "stageVariables",
}
AWS_HTTP_API_CONTEXT_KEYS = {
    "accountId",
    "apiId",
    "authentication",
    "authorizer",
    "domainName",
    "domainPrefix",
    "http",
    "requestId",
    "routeKey",
    "stage",
    "time",
    "timeEpoch",
}
AWS_HTTP_API_HTTP_KEYS = {"method", "path", "protocol", "sourceIp", "userAgent"}


def shape(value: object) -> object:
    """The keys of a JSON value, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


# -- building eventyard's own values ----------------------------------------------


def received(
    body: object,
    attributes: dict[str, object] | None = None,
    *,
    queue: str = "orders",
    message_id: str = "0b4c6f8e-0000-4000-8000-000000000001",
    fifo: bool = False,
    dead_letter_source_arn: str | None = None,
) -> dict[str, Any]:
    """The wire record of a received message, as a worker process gets it."""
    stored_body, kind, _ = encode_body(body)
    stored_attributes, _ = encode_attributes(attributes)
    message = Message(
        queue,
        message_id,
        f"receipt-{message_id}",
        stored_body,
        kind,
        stored_attributes,
        receive_count=2,
        sent_timestamp=1_800_000_000_000,
        first_receive_timestamp=1_800_000_000_500,
        sender_id=IDENTITY.account_id,
        sequence_number="18849496460467696128" if fifo else None,
        group_id="customer-7" if fifo else None,
        deduplication_id="dedup-1" if fifo else None,
        dead_letter_source_queue="source" if dead_letter_source_arn else None,
        dead_letter_source_arn=dead_letter_source_arn,
    )
    return record_of(message, IDENTITY.queue_arn(queue), REGION)


def notification(
    *, subject: str | None = "Order placed", attributes: str | None = None, sequence: bool = False
) -> tuple[dict[str, Any], str]:
    """An SNS envelope as eventyard writes it for one subscription, and that subscription."""
    subscription_arn = IDENTITY.subscription_arn("orders", "3f9a")
    text = NotificationText(
        message_id="6f1b0c1e-0000-4000-8000-000000000000",
        topic_arn=IDENTITY.topic_arn("orders"),
        message='{"order": 7}',
        subject=subject,
        timestamp=sns_timestamp(1_800_000_000_123),
        stored_attributes=attributes,
        sequence_number="10000000000000027000" if sequence else None,
    ).for_subscription(unsubscribe_url_json(subscription_arn))
    return json.loads(text), subscription_arn


def context(timeout_seconds: float = 3.0) -> LambdaContext:
    return LambdaContext(
        function_name="process_orders",
        aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        deadline=time.monotonic() + timeout_seconds,
    )


# -- SQS ------------------------------------------------------------------------


def test_sqs_event_has_the_keys_and_casing_of_aws_sample() -> None:
    record = received("Test message.", {"myAttribute": "myValue"})
    event = sqs_event([record])
    assert list(event) == ["Records"]
    (item,) = event["Records"]
    assert shape(item) == shape(AWS_SQS_RECORD)
    assert list(item) == list(AWS_SQS_RECORD)  # AWS's key order too
    assert item["messageId"] == record["message_id"]
    assert item["receiptHandle"] == record["receipt_handle"]
    assert item["body"] == "Test message."
    assert item["md5OfBody"] == hashlib.md5(b"Test message.").hexdigest()
    assert item["eventSource"] == "aws:sqs"
    assert item["eventSourceARN"] == f"arn:aws:sqs:{REGION}:000000000000:orders"
    assert item["awsRegion"] == REGION
    assert item["attributes"] == {
        "ApproximateReceiveCount": "2",
        "SentTimestamp": "1800000000000",
        "SenderId": "000000000000",
        "ApproximateFirstReceiveTimestamp": "1800000000500",
    }
    assert item["messageAttributes"] == {
        "myAttribute": {
            "stringValue": "myValue",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }


def test_sqs_binary_attributes_and_bodies_are_base64() -> None:
    raw = bytes(range(256))
    (item,) = sqs_event([received(raw, {"blob": b"\x00\xff", "n": 42})])["Records"]
    assert item["body"] == base64.b64encode(raw).decode("ascii")
    assert item["md5OfBody"] == hashlib.md5(item["body"].encode()).hexdigest()
    assert item["messageAttributes"] == {
        "blob": {
            "binaryValue": "AP8=",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
        "n": {
            "stringValue": "42",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Number",
        },
    }


def test_sqs_fifo_and_dead_letter_attributes() -> None:
    source = IDENTITY.queue_arn("source.fifo")
    (item,) = sqs_event(
        [received("x", queue="orders.fifo", fifo=True, dead_letter_source_arn=source)]
    )["Records"]
    assert set(item["attributes"]) == AWS_SQS_FIFO_ATTRIBUTES | {"DeadLetterQueueSourceArn"}
    assert item["attributes"]["SequenceNumber"] == "18849496460467696128"
    assert item["attributes"]["MessageGroupId"] == "customer-7"
    assert item["attributes"]["MessageDeduplicationId"] == "dedup-1"
    assert item["attributes"]["DeadLetterQueueSourceArn"] == source
    assert all(isinstance(value, str) for value in item["attributes"].values())


def test_powertools_sqs_data_class_and_parser_read_every_field() -> None:
    records = [
        received({"order": 1}, {"kind": "new", "blob": b"\x01\x02", "n": 1.5}),
        received("two", message_id="0b4c6f8e-0000-4000-8000-000000000002", fifo=True),
    ]
    event = SQSEvent(sqs_event(records))
    first, second = event.records
    assert first.message_id == records[0]["message_id"]
    assert first.receipt_handle == records[0]["receipt_handle"]
    assert first.json_body == {"order": 1}
    assert first.md5_of_body == hashlib.md5(records[0]["body"].encode()).hexdigest()
    assert first.event_source_arn.endswith(":orders")
    assert first.aws_region == REGION
    assert first.queue_url == "https://sqs.us-east-1.amazonaws.com/000000000000/orders"
    assert first.attributes.approximate_receive_count == "2"
    assert first.attributes.sent_timestamp == "1800000000000"
    assert first.attributes.sender_id == "000000000000"
    assert first.attributes.approximate_first_receive_timestamp == "1800000000500"
    kind = first.message_attributes["kind"]
    assert kind is not None
    assert (kind.string_value, kind.data_type) == ("new", "String")
    blob = first.message_attributes["blob"]
    assert blob is not None
    assert base64.b64decode(blob.binary_value or "") == b"\x01\x02"
    number = first.message_attributes["n"]
    assert number is not None
    assert (number.string_value, number.data_type) == ("1.5", "Number")
    assert second.attributes.message_group_id == "customer-7"
    assert second.attributes.message_deduplication_id == "dedup-1"
    assert second.attributes.sequence_number == "18849496460467696128"

    model = parse(event=sqs_event(records), model=SqsModel)
    assert [r.messageId for r in model.Records] == [r["message_id"] for r in records]
    assert model.Records[0].messageAttributes["blob"].binaryValue == "AQI="
    assert model.Records[1].attributes.MessageGroupId == "customer-7"


def test_powertools_batch_processor_reports_the_failed_message() -> None:
    records = [
        received(f"message {i}", message_id=f"0b4c6f8e-0000-4000-8000-00000000000{i}")
        for i in range(3)
    ]
    seen: list[str] = []

    def record_handler(record: SQSRecord) -> None:
        seen.append(record.body)
        if record.body == "message 1":
            raise ValueError("cannot process message 1")

    def handler(event: dict[str, Any], lambda_context: LambdaContext) -> Any:
        processor = BatchProcessor(event_type=EventType.SQS)
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=lambda_context
        )

    result = handler(sqs_event(records), context())
    failed_id = records[1]["message_id"]
    assert result == {"batchItemFailures": [{"itemIdentifier": failed_id}]}
    assert seen == ["message 0", "message 1", "message 2"]
    ids = [record["message_id"] for record in records]
    assert batch_item_failures(result, ids) == [failed_id]


@pytest.mark.parametrize(
    "result",
    [
        None,
        {},
        {"batchItemFailures": []},
        {"batchItemFailures": None},
        {"statusCode": 200, "body": "ok"},
    ],
)
def test_batch_item_failures_success_shapes(result: object) -> None:
    assert batch_item_failures(result, ["a", "b"]) == []


def test_batch_item_failures_reads_ids_once_in_order() -> None:
    result = {
        "batchItemFailures": [
            {"itemIdentifier": "c"},
            {"itemIdentifier": "a", "extra": 1},
            {"itemIdentifier": "c"},
        ]
    }
    assert batch_item_failures(result, ["a", "b", "c"]) == ["c", "a"]


@pytest.mark.parametrize(
    "result",
    [
        "ok",
        ["a"],
        {"batchItemFailures": "a"},
        {"batchItemFailures": {"itemIdentifier": "a"}},
        {"batchItemFailures": ["a"]},
        {"batchItemFailures": [{"itemIdentifier": "z"}]},  # not in the batch
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemIdentifer": "a"}]},  # a bad key name
        {"batchItemFailures": [{"itemIdentifier": 1}]},
    ],
)
def test_batch_item_failures_malformed_fails_the_whole_batch(result: object) -> None:
    with pytest.raises(MalformedBatchResponse, match="whole batch") as caught:
        batch_item_failures(result, ["a", "b"])
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, EventyardError)


# -- SNS ------------------------------------------------------------------------


def test_sns_event_has_the_keys_and_casing_of_aws_sample() -> None:
    stored, _ = encode_attributes({"Test": "TestString", "TestBinary": b"\x00\x01"})
    envelope, subscription_arn = notification(attributes=stored)
    event = sns_event(envelope, subscription_arn, REGION)
    assert list(event) == ["Records"]
    (record,) = event["Records"]
    assert shape(record) == shape(AWS_SNS_RECORD)
    assert set(record["Sns"]) == set(AWS_SNS_RECORD["Sns"])
    assert "SigningCertURL" not in record["Sns"]
    assert "UnsubscribeURL" not in record["Sns"]
    assert record["EventSubscriptionArn"] == subscription_arn
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == envelope["MessageId"]
    assert sns["TopicArn"] == IDENTITY.topic_arn("orders")
    assert sns["Subject"] == "Order placed"
    assert sns["Message"] == '{"order": 7}'
    assert sns["Timestamp"] == "2027-01-15T08:00:00.123Z"
    assert (sns["Signature"], sns["SigningCertUrl"]) == (UNSIGNED, SIGNING_CERT_URL)
    assert sns["UnsubscribeUrl"] == envelope["UnsubscribeURL"]
    assert subscription_arn in sns["UnsubscribeUrl"]
    assert sns["MessageAttributes"] == {
        "Test": {"Type": "String", "Value": "TestString"},
        "TestBinary": {"Type": "Binary", "Value": "AAE="},
    }


def test_sns_event_without_subject_or_attributes_has_null_and_empty() -> None:
    envelope, subscription_arn = notification(subject=None)
    assert "Subject" not in envelope
    assert "MessageAttributes" not in envelope
    sns = sns_event(envelope, subscription_arn, REGION)["Records"][0]["Sns"]
    assert sns["Subject"] is None
    assert sns["MessageAttributes"] == {}


def test_sns_event_keeps_a_fifo_sequence_number() -> None:
    envelope, subscription_arn = notification(sequence=True)
    sns = sns_event(envelope, subscription_arn, REGION)["Records"][0]["Sns"]
    assert sns["SequenceNumber"] == "10000000000000027000"


def test_powertools_sns_data_class_and_parser_read_every_field() -> None:
    stored, _ = encode_attributes({"kind": "new", "n": 3})
    envelope, subscription_arn = notification(attributes=stored)
    event = SNSEvent(sns_event(envelope, subscription_arn, REGION))
    record = event.record
    assert record.event_source == "aws:sns"
    assert record.event_version == "1.0"
    assert record.event_subscription_arn == subscription_arn
    assert json.loads(event.sns_message) == {"order": 7}
    message = record.sns
    assert message.get_type == "Notification"
    assert message.message_id == envelope["MessageId"]
    assert message.topic_arn == IDENTITY.topic_arn("orders")
    assert message.subject == "Order placed"
    assert json.loads(message.message) == {"order": 7}
    assert message.timestamp == "2027-01-15T08:00:00.123Z"
    assert message.signature_version == "1"
    assert message.signature == UNSIGNED
    assert message.signing_cert_url == SIGNING_CERT_URL
    assert message.unsubscribe_url == envelope["UnsubscribeURL"]
    assert message.message_attributes["kind"].value == "new"
    assert message.message_attributes["n"].get_type == "Number"

    model = parse(event=sns_event(envelope, subscription_arn, REGION), model=SnsModel)
    parsed = model.Records[0].Sns
    assert parsed.Subject == "Order placed"
    assert parsed.MessageAttributes is not None
    assert parsed.MessageAttributes["n"].Value == "3"


# -- EventBridge ------------------------------------------------------------------


def test_eventbridge_event_is_the_bus_envelope_and_powertools_reads_it() -> None:
    envelope, _ = build_event(
        {
            "source": "shop.orders",
            "detail_type": "OrderPlaced",
            "detail": {"order": 7, "lines": [{"sku": "A", "qty": 2}]},
            "resources": ["arn:aws:shop:::order/7"],
        },
        event_id="5ee0f2f1-0000-4000-8000-000000000000",
        now_ms=1_800_000_000_000,
        account=IDENTITY.account_id,
        region=REGION,
    )
    event = eventbridge_event(envelope)
    assert event is envelope
    data = EventBridgeEvent(event)
    assert data.get_id == "5ee0f2f1-0000-4000-8000-000000000000"
    assert data.version == "0"
    assert data.source == "shop.orders"
    assert data.detail_type == "OrderPlaced"
    assert data.detail == {"order": 7, "lines": [{"sku": "A", "qty": 2}]}
    assert data.account == "000000000000"
    assert data.region == REGION
    assert data.time == "2027-01-15T08:00:00Z"
    assert data.resources == ["arn:aws:shop:::order/7"]
    assert data.replay_name is None
    model = parse(event=event, model=EventBridgeModel)
    assert model.detail_type == "OrderPlaced"
    assert model.detail == {"order": 7, "lines": [{"sku": "A", "qty": 2}]}


# -- API Gateway HTTP API (payload format 2.0) --------------------------------------

HEADERS = [
    ("Host", "shop.example.com:8443"),
    ("User-Agent", "curl/8.5.0"),
    ("Accept", "text/html"),
    ("accept", "application/json"),
    ("Cookie", "session=abc; theme=dark"),
    ("cookie", "lang=fr"),
    ("Content-Type", "application/json"),
    ("X-Forwarded-For", "198.51.100.1"),
    ("x-forwarded-for", "203.0.113.9"),
]


def request(
    body: bytes = b'{"qty": 2}',
    headers: Any = None,
    *,
    query: str = "tag=a&tag=b&q=caf%C3%A9+au+lait&empty=",
    path_parameters: dict[str, str] | None = None,
    method: str = "post",
) -> dict[str, Any]:
    return http_api_event(
        method,
        "/orders/7/lines",
        query,
        HEADERS if headers is None else headers,
        body,
        {"order_id": "7"} if path_parameters is None else path_parameters,
        "POST /orders/{order_id}/lines",
        "JKJaXmPLvHcESHA=",
        "198.51.100.1",
        1_583_348_638_390,
    )


def test_http_api_event_has_the_keys_of_format_2_0() -> None:
    event = request()
    assert set(event) == AWS_HTTP_API_KEYS - {"stageVariables"}  # no stage variables
    # No authorizers and no mutual TLS: AWS leaves those keys out too.
    assert set(event["requestContext"]) == AWS_HTTP_API_CONTEXT_KEYS - {
        "authentication",
        "authorizer",
    }
    assert set(event["requestContext"]["http"]) == AWS_HTTP_API_HTTP_KEYS
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /orders/{order_id}/lines"
    assert event["rawPath"] == "/orders/7/lines"
    assert event["rawQueryString"] == "tag=a&tag=b&q=caf%C3%A9+au+lait&empty="
    assert event["pathParameters"] == {"order_id": "7"}
    assert event["requestContext"] == {
        "accountId": "000000000000",
        "apiId": "eventyard",
        "domainName": "shop.example.com",
        "domainPrefix": "shop",
        "http": {
            "method": "POST",
            "path": "/orders/7/lines",
            "protocol": "HTTP/1.1",
            "sourceIp": "198.51.100.1",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": "POST /orders/{order_id}/lines",
        "stage": "$default",
        "time": "04/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1_583_348_638_390,
    }


def test_http_api_headers_cookies_and_query_strings() -> None:
    event = request()
    assert event["headers"] == {
        "host": "shop.example.com:8443",
        "user-agent": "curl/8.5.0",
        "accept": "text/html,application/json",
        "content-type": "application/json",
        "x-forwarded-for": "198.51.100.1,203.0.113.9",
    }
    assert event["cookies"] == ["session=abc", "theme=dark", "lang=fr"]
    assert event["queryStringParameters"] == {"tag": "a,b", "q": "café au lait", "empty": ""}
    assert event["body"] == '{"qty": 2}'
    assert event["isBase64Encoded"] is False


def test_http_api_headers_may_be_a_mapping() -> None:
    event = request(headers={"Content-Type": "text/plain", "HOST": "localhost:8000"})
    assert event["headers"] == {"content-type": "text/plain", "host": "localhost:8000"}
    assert event["requestContext"]["domainName"] == "localhost"
    assert event["requestContext"]["domainPrefix"] == "localhost"
    assert event["requestContext"]["http"]["userAgent"] == ""


def test_http_api_empty_parts_are_absent() -> None:
    event = http_api_event(
        "GET", "/health", "", [], b"", {}, "GET /health", "id", "127.0.0.1", 1_800_000_000_000
    )
    for key in ("cookies", "queryStringParameters", "pathParameters", "body"):
        assert key not in event
    assert event["headers"] == {}
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["domainName"] == "localhost"


@pytest.mark.parametrize(
    ("body", "content_type", "encoding"),
    [
        (b"\xff\xfe\x00binary", "application/json", None),  # not UTF-8
        (b"\x89PNG\r\n", "image/png", None),
        (b"text that is UTF-8", "application/octet-stream", None),
        (b"compressed", "application/json", "gzip"),
    ],
)
def test_http_api_binary_bodies_are_base64(
    body: bytes, content_type: str, encoding: str | None
) -> None:
    headers = [("Content-Type", content_type)]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    event = request(body, headers)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_powertools_http_data_class_and_parser_read_every_field() -> None:
    event = APIGatewayProxyEventV2(request())
    assert event.version == "2.0"
    assert event.route_key == "POST /orders/{order_id}/lines"
    assert event.raw_path == event.path == "/orders/7/lines"
    assert event.http_method == "POST"
    assert event.path_parameters == {"order_id": "7"}
    assert event.get_query_string_value("q") == "café au lait"
    assert event.query_string_parameters["tag"] == "a,b"
    assert event.headers["Accept"] == "text/html,application/json"  # case-insensitive
    assert event.cookies == ["session=abc", "theme=dark", "lang=fr"]
    assert event.resolved_cookies_field == {"session": "abc", "theme": "dark", "lang": "fr"}
    assert event.json_body == {"qty": 2}
    assert event.decoded_body == '{"qty": 2}'
    assert event.is_base64_encoded is False
    http = event.request_context.http
    assert (http.method, http.path, http.source_ip) == ("POST", "/orders/7/lines", "198.51.100.1")
    assert event.request_context.stage == "$default"
    assert event.request_context.time_epoch == 1_583_348_638_390

    binary = APIGatewayProxyEventV2(request(b"\x89PNG", [("content-type", "image/png")]))
    assert binary.is_base64_encoded is True
    assert base64.b64decode(binary.body or "") == b"\x89PNG"

    model = parse(event=request(), model=APIGatewayProxyEventV2Model)
    assert model.requestContext.http.method == "POST"
    assert model.queryStringParameters == {"tag": "a,b", "q": "café au lait", "empty": ""}


def test_powertools_http_resolver_runs_unchanged() -> None:
    app = APIGatewayHttpResolver()

    @app.post("/orders/<order_id>/lines")
    def add_line(order_id: str) -> Response[str]:
        qty = app.current_event.json_body["qty"]
        return Response(
            status_code=201,
            content_type="application/json",
            body=json.dumps(
                {"order": order_id, "qty": qty, "q": app.current_event.get_query_string_value("q")}
            ),
            cookies=[],
            headers={"X-Order": order_id},
        )

    @app.get("/logo")
    def logo() -> Response[bytes]:
        return Response(status_code=200, content_type="image/png", body=b"\x89PNG\x00\xff")

    status, headers, body = http_api_response(app.resolve(request(), context()))
    assert status == 201
    assert ("Content-Type", "application/json") in headers
    assert ("X-Order", "7") in headers
    assert json.loads(body) == {"order": "7", "qty": 2, "q": "café au lait"}

    get = http_api_event(
        "GET", "/logo", "", [], b"", {}, "GET /logo", "id", "127.0.0.1", 1_800_000_000_000
    )
    status, headers, body = http_api_response(app.resolve(get, context()))
    assert (status, body) == (200, b"\x89PNG\x00\xff")
    assert ("Content-Type", "image/png") in headers

    missing = http_api_event(
        "GET", "/nope", "", [], b"", {}, "$default", "id", "127.0.0.1", 1_800_000_000_000
    )
    assert http_api_response(app.resolve(missing, context()))[0] == 404


def test_http_api_response_of_a_response_dict() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-Count": 3, "X-Ok": True},
        "cookies": ["a=1; Secure", "b=2"],
        "body": "créé",
        "isBase64Encoded": False,
    }
    assert http_api_response(result) == (
        201,
        [
            ("Content-Type", "text/plain"),
            ("X-Count", "3"),
            ("X-Ok", "true"),
            ("set-cookie", "a=1; Secure"),
            ("set-cookie", "b=2"),
        ],
        "créé".encode(),
    )
    assert http_api_response({"statusCode": 204}) == (204, [], b"")
    assert http_api_response({"statusCode": "302", "headers": {"Location": "/x"}})[0] == 302
    binary = {
        "statusCode": 200,
        "body": base64.b64encode(b"\x00\xff").decode(),
        "isBase64Encoded": True,
    }
    assert http_api_response(binary) == (200, [], b"\x00\xff")


@pytest.mark.parametrize(
    ("result", "body"),
    [
        ("Hello from Lambda!", b"Hello from Lambda!"),  # AWS's own example: the string as is
        ({"message": "Hello from Lambda!"}, b'{"message":"Hello from Lambda!"}'),
        ([1, "two"], b'[1,"two"]'),
        (None, b"null"),
        ({"price": Decimal("9.50"), "qty": Decimal(2)}, b'{"price":9.5,"qty":2}'),
    ],
)
def test_http_api_response_infers_200_json_for_any_other_value(result: object, body: bytes) -> None:
    assert http_api_response(result) == (200, [("content-type", "application/json")], body)


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": True},
        {"statusCode": 200, "headers": ["a"]},
        {"statusCode": 200, "headers": {"X-A": {"nested": 1}}},
        {"statusCode": 200, "headers": {"X-A": "a\r\nSet-Cookie: b"}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "cookies": [1]},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
        {"statusCode": 200, "body": "x", "isBase64Encoded": "yes"},
        {"not json": object()},
        b"bytes",
    ],
)
def test_http_api_response_malformed(result: object) -> None:
    with pytest.raises(MalformedHttpResponse):
        http_api_response(result)


def test_internal_server_error_is_api_gateways_answer() -> None:
    status, headers, body = INTERNAL_SERVER_ERROR
    assert (status, headers) == (500, [("content-type", "application/json")])
    assert json.loads(body) == {"message": "Internal Server Error"}


# -- the context object ---------------------------------------------------------------


def test_lambda_context_has_the_python_runtime_attributes() -> None:
    ctx = LambdaContext(
        function_name="process_orders",
        aws_request_id="req-1",
        deadline=time.monotonic() + 3,
        region="eu-west-1",
        account_id="123456789012",
        memory_limit_in_mb=256,
    )
    assert ctx.function_name == "process_orders"
    assert ctx.function_version == "$LATEST"
    assert (
        ctx.invoked_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:process_orders"
    )
    assert ctx.memory_limit_in_mb == "256"  # a string, as the runtime reads it from its env
    assert ctx.aws_request_id == "req-1"
    assert ctx.log_group_name == "/aws/lambda/process_orders"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", ctx.log_stream_name)
    assert ctx.identity.cognito_identity_id is None
    assert ctx.identity.cognito_identity_pool_id is None
    assert ctx.client_context is None
    assert context().memory_limit_in_mb == "128"


def test_remaining_time_counts_down_to_zero() -> None:
    now = [100.0]
    ctx = LambdaContext(function_name="f", aws_request_id="r", deadline=103.0, clock=lambda: now[0])
    assert ctx.get_remaining_time_in_millis() == 3000
    now[0] = 102.5
    assert ctx.get_remaining_time_in_millis() == 500
    now[0] = 104.0
    assert ctx.get_remaining_time_in_millis() == 0

    real = context(timeout_seconds=5)
    first = real.get_remaining_time_in_millis()
    time.sleep(0.02)
    second = real.get_remaining_time_in_millis()
    assert 4000 < first <= 5000
    assert second < first
