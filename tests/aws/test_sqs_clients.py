"""SQS clients of both wire protocols for the SQS tests, and checks that they are what they say.

boto3 speaks SQS's JSON 1.0. For the query protocol (forms in, XML out) the
tests use a botocore client built from the same service model turned back
into a query model (``protocol: query`` plus the query names the endpoint
restores), so every operation can run over both protocols with one test
body. The raw-form tests in test_sqs_query.py check the query names against
the SQS API reference independently of that model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from aws_endpoint import AwsEndpoint
from botocore.config import Config

from eventyard.aws.sqs_query_names import with_query_names

PROTOCOLS = ["json", "query"]


@pytest.fixture(scope="session")
def query_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A botocore data folder holding SQS's model as a query model."""
    raw = botocore.loaders.create_loader().load_service_model("sqs", "service-2")
    model = with_query_names(raw)
    model["metadata"].update(protocol="query", protocols=["query"])
    model["metadata"].pop("awsQueryCompatible", None)
    root = tmp_path_factory.mktemp("botocore-data")
    folder = root / "sqs" / "2012-11-05"
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    return root


def query_client(aws: AwsEndpoint, models: Path) -> Any:
    """A botocore SQS client that speaks the query protocol to ``aws``."""
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(models))
    return session.create_client(
        "sqs",
        endpoint_url=aws.url,
        region_name=aws.settings.region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(params=PROTOCOLS)
def sqs(request: pytest.FixtureRequest, aws: AwsEndpoint, query_models: Path) -> Iterator[Any]:
    """An SQS client of each protocol in turn."""
    client = aws.boto("sqs") if request.param == "json" else query_client(aws, query_models)
    yield client
    client.close()


def test_the_query_client_posts_forms_and_reads_xml(aws: AwsEndpoint, query_models: Path) -> None:
    client = query_client(aws, query_models)
    bodies: list[str] = []
    kinds: list[str] = []
    client.meta.events.register(
        "before-send.sqs.*", lambda request, **_: bodies.append(str(request.body))
    )
    client.meta.events.register(
        "after-call.sqs.*",
        lambda http_response, **_: kinds.append(http_response.headers["content-type"]),
    )
    client.create_queue(QueueName="forms")
    assert bodies[0].startswith("Action=CreateQueue&")
    assert kinds[0].startswith("text/xml")
    assert aws.client.list_queues() == ["forms"]
