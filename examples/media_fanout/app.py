"""Media fan-out: one upload event, independent consumers (the profile picture story).

``POST /uploads/{image_id}`` stores the image and, in one transaction, records
it and puts ``ImageUploaded`` on the default bus. Three rules on that bus each
invoke their own function, asynchronously, in their own worker processes:
``resize_for_mobile``, ``resize_for_4k`` and ``update_cache``. A failing one is
retried, then its event goes to the ``MediaFailures`` queue; the others never
notice. ``GET /media/{image_id}`` shows the upload and what each function did.

Run it: ``eventyard run examples/media_fanout/app.py --db sqlite:///media.db``
(the environment variables are described in ``settings.py``).
"""

from __future__ import annotations

from typing import Any

import eventyard

from . import consumers, tables, uploads
from .events import PATTERN
from .settings import broken_functions, max_upload_bytes, retries

app = eventyard.App("media")

#: Where a function's event goes once its retries are exhausted (Lambda's on-failure destination).
failures = app.queue("MediaFailures", retention_seconds=14 * 24 * 3600)

RETRIES = retries()
broken_functions()  # a typo in MEDIA_BROKEN stops `eventyard run` at once, with the names


@app.setup
def create_tables(client: eventyard.Client) -> None:
    tables.create(client)


# -- the producer: the upload (API Gateway + the Lambda function that publishes) ---------


@app.route("POST", "/uploads/{image_id}", max_body_bytes=max_upload_bytes())
def upload(image_id: str, body: bytes, client: eventyard.Client) -> uploads.Reply:
    return uploads.accept(client, image_id, body)


@app.route("GET", "/media/{image_id}")
def media(image_id: str, client: eventyard.Client) -> uploads.Reply:
    return uploads.show(client, image_id)


# -- the consumers: one rule each on the default bus, each its own function ---------------


@app.on_event(pattern=PATTERN, on_failure=failures, retries=RETRIES, timeout_seconds=60)
def resize_for_mobile(event: dict[str, Any], context: eventyard.FunctionContext) -> dict[str, Any]:
    return consumers.run("resize_for_mobile", event, context.client)


@app.on_event(pattern=PATTERN, on_failure=failures, retries=RETRIES, timeout_seconds=60)
def resize_for_4k(event: dict[str, Any], context: eventyard.FunctionContext) -> dict[str, Any]:
    return consumers.run("resize_for_4k", event, context.client)


@app.on_event(pattern=PATTERN, on_failure=failures, retries=RETRIES, timeout_seconds=10)
def update_cache(event: dict[str, Any], context: eventyard.FunctionContext) -> dict[str, Any]:
    return consumers.run("update_cache", event, context.client)
