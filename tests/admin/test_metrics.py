"""`/metrics`: the database's figures in Prometheus's text format, moving as messages flow."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from eventyard import Client
from eventyard.admin.metrics import render


def _samples(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text, content_type = render(lambda: client)
    assert content_type.startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_queue_figures_and_counters_move_with_the_messages(client: Client) -> None:
    client.create_queue("orders-dlq")
    orders = client.create_queue("orders", dead_letter_queue="orders-dlq", max_receive_count=3)
    before = _samples(client)
    assert before[("eventyard_queue_visible_messages", (("queue", "orders"),))] == 0
    assert before[("eventyard_queue_sent_messages_total", (("queue", "orders"),))] == 0
    orders.send_batch(["a", "b", "c"])
    received = orders.receive(max_messages=2)
    orders.delete(received[0].receipt_handle)
    client.get_queue("orders-dlq").send("dead")
    after = _samples(client)
    queue = (("queue", "orders"),)
    assert after[("eventyard_queue_visible_messages", queue)] == 1
    assert after[("eventyard_queue_in_flight_messages", queue)] == 1
    assert after[("eventyard_queue_sent_messages_total", queue)] == 3
    assert after[("eventyard_queue_received_messages_total", queue)] == 2
    assert after[("eventyard_queue_deleted_messages_total", queue)] == 1
    assert after[("eventyard_queue_dead_letter_messages", queue)] == 1
    assert ("eventyard_queue_dead_letter_messages", (("queue", "orders-dlq"),)) not in after


def test_function_counters_and_duration_histogram(client: Client) -> None:
    now = client.now_ms()
    client.store.record_invocations("update_stock", now, 1, 0, 10, [3.0])
    client.store.record_invocations("update_stock", now, 1, 1, 10, [120.0])
    samples = _samples(client)
    function = (("function", "update_stock"),)
    assert samples[("eventyard_function_invocations_total", function)] == 2
    assert samples[("eventyard_function_errors_total", function)] == 1
    assert samples[("eventyard_function_messages_total", function)] == 20
    assert samples[("eventyard_function_duration_seconds_count", function)] == 2
    assert abs(samples[("eventyard_function_duration_seconds_sum", function)] - 0.123) < 1e-9
    le = {
        dict(labels)["le"]: value
        for (name, labels), value in samples.items()
        if name == "eventyard_function_duration_seconds_bucket"
    }
    assert (le["0.005"], le["0.1"], le["0.25"], le["+Inf"]) == (1, 1, 2, 2)


def test_internal_queues_are_left_out(client: Client) -> None:
    client.create_queue("visible-one")
    names = {dict(labels).get("queue") for (_, labels) in _samples(client)}
    assert "visible-one" in names
    assert not any(name and name.startswith("eventyard:") for name in names)
