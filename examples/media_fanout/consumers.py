"""What each consumer of ``ImageUploaded`` does, idempotently.

A consumer keys its work on (``image_id``, ``sha256``, its own name) in
``media_processing``:

- a redelivered event whose work is recorded done (and whose file exists) is
  skipped and counted in ``duplicates``: no decode, no resize, no write;
- an event for a version replaced since is skipped (``superseded``);
- otherwise the rendition is rendered outside any transaction, staged in a
  temporary file, and renamed over its one path *inside* the transaction that
  records it, after checking again that the version is still current. The
  write lock orders that rename with the uploads' commits, so an old event can
  never overwrite a newer image's rendition.

Two deliveries of the same event running at the same moment may both render;
both write the same bytes to the same path, and ``runs`` shows 2: harmless.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import eventyard

from . import tables
from .events import ImageUploaded
from .images import Box, fit, render_jpeg
from .settings import broken_functions, media_dir
from .storage import StagedFile, rendition_key

log = logging.getLogger("media_fanout")

#: Rendition kind -> the box it must fit in (width, height).
RENDITIONS: Final[dict[str, Box]] = {"mobile": (1080, 1920), "4k": (3840, 2160)}


class BrokenOnPurpose(RuntimeError):
    """What a function named in ``$MEDIA_BROKEN`` raises."""


def run(function: str, event: dict[str, Any], client: eventyard.Client) -> dict[str, Any]:
    """Run one consumer on one event; a failure is recorded, then raised (to be retried)."""
    detail = ImageUploaded.from_event(event)
    try:
        if function in broken_functions():
            raise BrokenOnPurpose(f"{function} is broken on purpose (MEDIA_BROKEN)")
        if function == "update_cache":
            return update_cache(detail, client)
        kind = "mobile" if function == "resize_for_mobile" else "4k"
        return make_rendition(function, kind, detail, client)
    except Exception as exc:
        try:
            with client.transaction() as tx:
                error = f"{type(exc).__name__}: {exc}"
                tables.record_failure(tx, detail.image_id, detail.sha256, function, error)
        except Exception:  # the original failure is the one to report
            log.exception("%s: could not record the failure", function)
        raise


def make_rendition(
    function: str, kind: str, detail: ImageUploaded, client: eventyard.Client
) -> dict[str, Any]:
    root = media_dir(client)
    key = rendition_key(detail.image_id, kind)
    target = root / key
    with client.transaction() as tx:
        if not tables.is_current(tx, detail):
            return {"skipped": "superseded"}
        if tables.done_already(tx, detail, function) and target.exists():
            tables.record_duplicate(tx, detail, function)
            log.info("%s: %s already rendered; skipped", function, detail.image_id)
            return {"skipped": "duplicate"}
    rendered = render_jpeg(root / detail.key, RENDITIONS[kind])
    output = {
        "key": key,
        "width": rendered.width,
        "height": rendered.height,
        "size_bytes": len(rendered.data),
    }
    with StagedFile(target, rendered.data) as staged, client.transaction() as tx:
        if not tables.is_current(tx, detail):
            return {"skipped": "superseded"}  # the staged file is removed
        staged.commit()  # under the write lock: ordered with the uploads' commits
        tables.record_done(tx, detail, function, output)
    return output


def update_cache(detail: ImageUploaded, client: eventyard.Client) -> dict[str, Any]:
    """One transaction: check, upsert, record. The effect happens exactly once."""
    renditions: dict[str, Any] = {}
    for kind, box in RENDITIONS.items():
        width, height = fit((detail.width, detail.height), box)
        renditions[kind] = {
            "key": rendition_key(detail.image_id, kind),
            "width": width,
            "height": height,
        }
    with client.transaction() as tx:
        if not tables.is_current(tx, detail):
            return {"skipped": "superseded"}
        if tables.cached_version(tx, detail.image_id) == detail.sha256:
            tables.record_duplicate(tx, detail, "update_cache")
            return {"skipped": "duplicate"}
        tables.upsert_cache(tx, detail, renditions)
        tables.record_done(tx, detail, "update_cache", {"renditions": renditions})
    return {"renditions": renditions}
