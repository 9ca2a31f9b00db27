"""Queue attributes: defaults, ranges, FIFO-only attributes, the redrive policy pair."""

from __future__ import annotations

import pytest

from eventyard.errors import InvalidParameterValue, MissingParameter
from eventyard.model.queue_config import QueueConfig, RedriveAllowPolicy, queue_config_for


def test_defaults_follow_sqs() -> None:
    _, config = queue_config_for("orders")
    assert config == QueueConfig(
        fifo=False,
        visibility_timeout=30,
        delay_seconds=0,
        retention_seconds=345_600,
        max_message_bytes=1_048_576,
        receive_wait_seconds=0,
    )
    assert config.redrive_allow_policy == RedriveAllowPolicy("allowAll")


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("visibility_timeout", 0, 43_200),
        ("delay_seconds", 0, 900),
        ("retention_seconds", 60, 1_209_600),
        ("max_message_bytes", 1_024, 1_048_576),
        ("receive_wait_seconds", 0, 20),
    ],
)
def test_attribute_ranges(field: str, low: int, high: int) -> None:
    assert getattr(queue_config_for("q", **{field: low})[1], field) == low
    assert getattr(queue_config_for("q", **{field: high})[1], field) == high
    with pytest.raises(InvalidParameterValue, match=f"{field} must be from {low} to {high}"):
        queue_config_for("q", **{field: low - 1})
    with pytest.raises(InvalidParameterValue, match=f"got {high + 1}"):
        queue_config_for("q", **{field: high + 1})


def test_max_receive_count_range_and_pairing() -> None:
    config = queue_config_for("q", dead_letter_queue="d", max_receive_count=1)[1]
    assert (config.dead_letter_queue, config.max_receive_count) == ("d", 1)
    queue_config_for("q", dead_letter_queue="d", max_receive_count=1000)
    for bad in (0, 1001):
        with pytest.raises(InvalidParameterValue, match="max_receive_count must be from 1 to 1000"):
            queue_config_for("q", dead_letter_queue="d", max_receive_count=bad)
    with pytest.raises(MissingParameter, match="needs max_receive_count"):
        queue_config_for("q", dead_letter_queue="d")
    with pytest.raises(MissingParameter, match="needs a dead_letter_queue"):
        queue_config_for("q", max_receive_count=3)


def test_dead_letter_queue_accepts_an_arn() -> None:
    config = queue_config_for(
        "q", dead_letter_queue="arn:aws:sqs:us-east-1:000000000000:dlq", max_receive_count=2
    )[1]
    assert config.dead_letter_queue == "dlq"


def test_fifo_follows_the_name() -> None:
    assert queue_config_for("jobs.fifo")[1].fifo
    assert not queue_config_for("jobs")[1].fifo
    with pytest.raises(InvalidParameterValue, match=r"does not end in '\.fifo' but fifo=True"):
        queue_config_for("jobs", fifo=True)
    with pytest.raises(InvalidParameterValue, match=r"ends in '\.fifo' but fifo=False"):
        queue_config_for("jobs.fifo", fifo=False)


def test_fifo_only_attributes() -> None:
    config = queue_config_for(
        "j.fifo", content_based_deduplication=True, deduplication_scope="messageGroup"
    )[1]
    assert config.content_based_deduplication
    assert config.deduplication_scope == "messageGroup"
    with pytest.raises(InvalidParameterValue, match="only to FIFO queues"):
        queue_config_for("j", content_based_deduplication=True)
    with pytest.raises(InvalidParameterValue, match="only to FIFO queues"):
        queue_config_for("j", deduplication_scope="messageGroup")
    with pytest.raises(InvalidParameterValue, match="'queue' or 'messageGroup'"):
        queue_config_for("j.fifo", deduplication_scope="everything")


def test_redrive_allow_policy_forms() -> None:
    assert RedriveAllowPolicy.parse("denyAll").permission == "denyAll"
    by_queue = RedriveAllowPolicy.parse(["a", "arn:aws:sqs:us-east-1:000000000000:b"])
    assert by_queue == RedriveAllowPolicy("byQueue", ("a", "b"))
    assert by_queue.allows("a")
    assert not by_queue.allows("c")
    sqs_shape = RedriveAllowPolicy.parse(
        '{"redrivePermission": "byQueue", "sourceQueueArns": ["arn:aws:sqs:r:1:x"]}'
    )
    assert sqs_shape.source_queues == ("x",)
    with pytest.raises(InvalidParameterValue, match="1 to 10"):
        RedriveAllowPolicy.parse([f"q{i}" for i in range(11)])
    with pytest.raises(InvalidParameterValue, match="allowAll"):
        RedriveAllowPolicy.parse("sometimes")


def test_unknown_attribute_is_named() -> None:
    with pytest.raises(InvalidParameterValue, match="unknown queue attribute"):
        QueueConfig().with_changes(visibility=3)


def test_json_round_trip_and_differences() -> None:
    _, config = queue_config_for(
        "q",
        visibility_timeout=5,
        dead_letter_queue="d",
        max_receive_count=3,
        redrive_allow_policy=["x"],
    )
    assert QueueConfig.from_json(config.to_json()) == config
    assert config.differences(QueueConfig()) == [
        "visibility_timeout",
        "dead_letter_queue",
        "max_receive_count",
        "redrive_allow_policy",
    ]


def test_removing_the_dead_letter_queue_removes_the_policy() -> None:
    _, config = queue_config_for("q", dead_letter_queue="d", max_receive_count=3)
    cleared = config.with_changes(dead_letter_queue=None)
    assert (cleared.dead_letter_queue, cleared.max_receive_count) == (None, None)
