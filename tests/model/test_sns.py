"""The SNS notification text: SNS's keys, in SNS's order, valid JSON for any message."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventyard.errors import InvalidParameterValue
from eventyard.model.sns import NotificationText, check_subject, sns_timestamp, unsubscribe_url_json

xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=50
)


@given(message=xml_text, subject=st.one_of(st.none(), xml_text), sequence=st.booleans())
def test_notification_text_is_the_json_of_the_envelope(
    message: str, subject: str | None, sequence: bool
) -> None:
    notification = NotificationText(
        message_id="6f1b0c1e-0000-4000-8000-000000000000",
        topic_arn="arn:aws:sns:us-east-1:000000000000:t",
        message=message,
        subject=subject,
        timestamp=sns_timestamp(1_800_000_000_123),
        stored_attributes='{"k":["String","v"]}',
        sequence_number="00000000000000000007" if sequence else None,
    )
    text = notification.for_subscription(unsubscribe_url_json("arn:aws:sns:r:a:t:sub"))
    envelope = json.loads(text)
    assert envelope["Message"] == message
    assert envelope.get("Subject") == subject
    assert envelope["Timestamp"] == "2027-01-15T08:00:00.123Z"
    assert envelope["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert text == json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    keys = list(envelope)
    assert keys[:2] == ["Type", "MessageId"]
    assert keys[-2:] == ["UnsubscribeURL", "MessageAttributes"]


def test_subjects() -> None:
    assert check_subject(None) is None
    assert check_subject("New order") == "New order"
    for bad in ["", "x" * 100, "a\nb", "tab\there"]:
        with pytest.raises(InvalidParameterValue):
            check_subject(bad)
