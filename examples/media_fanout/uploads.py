"""The HTTP side: accept an upload (the S3 PUT + Lambda role), and show an image's state."""

from __future__ import annotations

import hashlib
from typing import Any

import eventyard

from . import tables
from .events import IMAGE_ID, ImageUploaded
from .images import ImageRejected, inspect_image
from .settings import FUNCTIONS, media_dir
from .storage import original_key, write_atomically

Reply = tuple[int, dict[str, Any]]


def check_image_id(image_id: str) -> str:
    if not IMAGE_ID.fullmatch(image_id):
        raise eventyard.InvalidParameterValue(
            f"image id {image_id[:80]!r} is not valid: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return image_id


def accept(client: eventyard.Client, image_id: str, body: bytes) -> Reply:
    """Check the image, store it, then record it and put its event in one transaction.

    Everything is checked before anything is written: a bad upload stores nothing.
    """
    check_image_id(image_id)
    try:
        info = inspect_image(body)
    except ImageRejected as exc:
        return exc.status, {"error": exc.code, "message": str(exc)}
    sha256 = hashlib.sha256(body).hexdigest()
    key = original_key(image_id, sha256, info.extension)
    path = media_dir(client) / key
    if not path.exists():  # content-addressed: the same bytes are already there, whole
        write_atomically(path, body)
    detail = ImageUploaded(
        image_id=image_id,
        sha256=sha256,
        key=key,
        format=info.format,
        width=info.width,
        height=info.height,
        size_bytes=len(body),
    )
    with client.transaction() as tx:  # the row and its event commit together, or neither
        version = tables.record_upload(tx, detail)
        results = tx.put_events([detail.entry()])
        results.raise_for_errors()
    return 202, {
        "image_id": image_id,
        "version": version,
        "event_id": results[0].event_id,
        "status": f"/media/{image_id}",
        "detail": detail.model_dump(),
    }


def _state(row: dict[str, Any] | None, sha256: str) -> dict[str, Any]:
    """A function's state for the current version (``pending`` until it reports)."""
    if row is None or row["sha256"] != sha256:
        return {"status": "pending"}
    keep = ("status", "output", "error", "runs", "duplicates", "failures", "updated_at")
    return {name: row[name] for name in keep}


def show(client: eventyard.Client, image_id: str) -> Reply:
    check_image_id(image_id)
    with client.transaction() as tx:
        upload = tables.upload(tx, image_id)
        if upload is None:
            return 404, {"error": "NotFound", "message": f"no image {image_id!r} was uploaded"}
        done = tables.processing(tx, image_id)
        cache = tables.cache(tx, image_id)
    return 200, {
        "upload": upload,
        "functions": {name: _state(done.get(name), upload["sha256"]) for name in FUNCTIONS},
        "cache": cache,
    }
