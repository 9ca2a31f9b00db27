"""examples/media_fanout end to end: a real `eventyard run`, real HTTP, real images.

One upload puts one ``ImageUploaded`` event on the bus; three functions react on
their own: two renditions and a cache row. A broken consumer does not stop the
others and its event reaches the failure destination; a redelivered event is
recognized and not worked again; bad uploads get a 4xx and leave nothing behind.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from running_app import RunningApp, running_app, wait_until

import eventyard

pytestmark = pytest.mark.slow

APP = str(Path(__file__).parents[2] / "examples" / "media_fanout" / "app.py")
FUNCTIONS = ("resize_for_mobile", "resize_for_4k", "update_cache")
LIMIT = 1024 * 1024  # MEDIA_MAX_UPLOAD_BYTES in these tests (the default is 20 MiB)


def _environment(**extra: str) -> dict[str, str]:
    # Retries off: eventyard waits 60 s before a retry, and these tests want the failure now.
    return {
        "MEDIA_RETRIES": "0",
        "MEDIA_MAX_UPLOAD_BYTES": str(LIMIT),
        "MEDIA_DIR": "",  # the default: media/ next to the database
        "MEDIA_BROKEN": "",
        **extra,
    }


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    folder = tmp_path_factory.mktemp("media_fanout")
    with running_app(
        APP, f"sqlite:///{folder / 'media.db'}", folder / "eventyard.log", env=_environment()
    ) as app:
        yield app


def _media_dir(app: RunningApp) -> Path:
    return Path(app.database_url.removeprefix("sqlite:///")).parent / "media"


# -- images made here, with Pillow -----------------------------------------------------


def _jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _png_with_alpha(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 30, 30, 128)).save(out, "PNG")
    return out.getvalue()


# -- helpers -------------------------------------------------------------------------


def _upload(app: RunningApp, image_id: str, data: bytes) -> httpx.Response:
    with app.http() as http:
        return http.post(f"/uploads/{image_id}", content=data)


def _media(app: RunningApp, image_id: str) -> dict[str, Any]:
    with app.http() as http:
        response = http.get(f"/media/{image_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _wait_for(
    app: RunningApp, image_id: str, check: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def ready() -> bool:
        seen.update(_media(app, image_id)["functions"])
        return check(seen)

    wait_until(ready, timeout=20, what=f"{image_id}: {what}")
    return _media(app, image_id)


def _all_done(functions: dict[str, Any]) -> bool:
    return all(functions[name]["status"] == "done" for name in FUNCTIONS)


def _size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "JPEG"
        return image.size


# -- the fan-out -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_id", "make", "original", "mobile", "four_k"),
    [
        # Landscape, larger than 4K: both renditions scaled down into their box.
        pytest.param(
            "landscape",
            lambda: _jpeg(5000, 3000),
            (5000, 3000),
            (1080, 648),
            (3600, 2160),
            id="landscape-5000x3000",
        ),
        # A phone photo stored sideways (EXIF orientation 6): sizes as displayed, upright.
        pytest.param(
            "phone_photo",
            lambda: _jpeg(4000, 3000, 6),
            (3000, 4000),
            (1080, 1440),
            (1620, 2160),
            id="exif-rotated-phone-photo",
        ),
        # Smaller than both boxes: never upscaled; transparency flattened for JPEG.
        pytest.param(
            "small-png",
            lambda: _png_with_alpha(800, 600),
            (800, 600),
            (800, 600),
            (800, 600),
            id="small-png-not-upscaled",
        ),
    ],
)
def test_an_upload_makes_a_mobile_and_a_4k_rendition_and_a_cache_row(
    healthy: RunningApp,
    image_id: str,
    make: Callable[[], bytes],
    original: tuple[int, int],
    mobile: tuple[int, int],
    four_k: tuple[int, int],
) -> None:
    data = make()
    response = _upload(healthy, image_id, data)
    assert response.status_code == 202, response.text
    detail = response.json()["detail"]
    assert (detail["width"], detail["height"]) == original

    state = _wait_for(healthy, image_id, _all_done, "all three functions done")
    media = _media_dir(healthy)
    assert _size(media / "mobile" / f"{image_id}.jpg") == mobile
    assert _size(media / "4k" / f"{image_id}.jpg") == four_k
    outputs = {name: state["functions"][name]["output"] for name in FUNCTIONS}
    assert (outputs["resize_for_mobile"]["width"], outputs["resize_for_mobile"]["height"]) == mobile
    assert (outputs["resize_for_4k"]["width"], outputs["resize_for_4k"]["height"]) == four_k
    assert (media / state["upload"]["key"]).read_bytes() == data

    cache = state["cache"]
    assert cache["sha256"] == detail["sha256"]
    assert (cache["width"], cache["height"], cache["size_bytes"]) == (*original, len(data))
    assert cache["original"] == detail["key"]
    assert cache["renditions"] == {
        "mobile": {"key": f"mobile/{image_id}.jpg", "width": mobile[0], "height": mobile[1]},
        "4k": {"key": f"4k/{image_id}.jpg", "width": four_k[0], "height": four_k[1]},
    }
    with eventyard.connect(healthy.database_url) as client:
        assert client.get_queue("MediaFailures").stats().visible == 0


def _outputs(media: Path, image_id: str) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each rendition: a rewrite (os.replace) changes the inode."""
    found = {}
    for kind in ("mobile", "4k"):
        info = (media / kind / f"{image_id}.jpg").stat()
        found[kind] = (info.st_ino, info.st_mtime_ns)
    return found


def test_a_redelivered_event_does_not_redo_work(healthy: RunningApp) -> None:
    image_id = "redelivered"
    data = _jpeg(4200, 2400)
    detail = _upload(healthy, image_id, data).json()["detail"]
    first = _wait_for(healthy, image_id, _all_done, "all three functions done")
    media = _media_dir(healthy)
    files = _outputs(media, image_id)

    # The same event again, as an at-least-once producer or bus would deliver it.
    with eventyard.connect(healthy.database_url) as client:
        put = client.bus().put_events(
            [{"source": "media.uploads", "detail_type": "ImageUploaded", "detail": detail}]
        )
        assert put.failed == []
    again = _wait_for(
        healthy,
        image_id,
        lambda functions: all(functions[n].get("duplicates") == 1 for n in FUNCTIONS),
        "every function to recognize the redelivery",
    )
    for name in FUNCTIONS:
        assert again["functions"][name]["runs"] == 1, name  # the work was done once
        assert again["functions"][name]["output"] == first["functions"][name]["output"]
    assert _outputs(media, image_id) == files  # not rewritten, not even with the same bytes
    assert again["cache"] == first["cache"]  # updated_at included

    # The same bytes uploaded again: a new version number, the same content, no new work.
    response = _upload(healthy, image_id, data)
    assert response.status_code == 202
    assert response.json()["version"] == 2
    assert response.json()["detail"] == detail
    twice = _wait_for(
        healthy,
        image_id,
        lambda functions: all(functions[n].get("duplicates") == 2 for n in FUNCTIONS),
        "every function to recognize the same image",
    )
    assert [twice["functions"][n]["runs"] for n in FUNCTIONS] == [1, 1, 1]
    assert _outputs(media, image_id) == files
    assert len(list((media / "originals" / image_id).iterdir())) == 1

    # New bytes under the same id: new work, the renditions replaced in place.
    response = _upload(healthy, image_id, _jpeg(1200, 1600))
    new_sha = response.json()["detail"]["sha256"]
    replaced = _wait_for(
        healthy,
        image_id,
        lambda functions: _all_done(functions) and functions["update_cache"]["duplicates"] == 0,
        "the new version done",
    )
    assert replaced["cache"]["sha256"] == new_sha
    assert _size(media / "mobile" / f"{image_id}.jpg") == (1080, 1440)
    assert _size(media / "4k" / f"{image_id}.jpg") == (1200, 1600)
    assert [replaced["functions"][n]["runs"] for n in FUNCTIONS] == [1, 1, 1]
    leftovers = [p.name for kind in ("mobile", "4k") for p in (media / kind).glob(".*")]
    assert leftovers == []  # no temporary files left behind


# -- bad input -----------------------------------------------------------------------


def _stored(app: RunningApp) -> tuple[set[str], int, int]:
    """Every file under the media folder, and the rows of uploads and media_processing."""
    media = _media_dir(app)
    files = {str(p.relative_to(media)) for p in media.rglob("*")} if media.exists() else set()
    with eventyard.connect(app.database_url) as client, client.transaction() as tx:
        uploads = tx.execute("SELECT count(*) FROM uploads").fetchone()[0]
        processed = tx.execute("SELECT count(*) FROM media_processing").fetchone()[0]
    return files, uploads, processed


def test_bad_input_gets_a_clear_4xx_and_stores_nothing(healthy: RunningApp) -> None:
    before = _stored(healthy)
    image = _jpeg(640, 480)
    cases: list[tuple[str, bytes, int, str]] = [
        ("not-an-image", b"just text, not an image at all", 415, "NotAnImage"),
        ("empty", b"", 415, "NotAnImage"),
        ("truncated", image[: len(image) // 2], 422, "BrokenImage"),
        ("too-big", b"\xff" * (LIMIT + 1), 413, "RequestEntityTooLarge"),
    ]
    for image_id, data, status, code in cases:
        response = _upload(healthy, image_id, data)
        assert response.status_code == status, (image_id, response.text)
        assert response.json()["error"] == code, image_id
        assert response.json()["message"], image_id
    for bad_id in ("bad.id", "-leading-dash", "x" * 65, "sp ace", "semi;colon"):
        response = _upload(healthy, bad_id, image)
        assert response.status_code == 400, (bad_id, response.text)
        assert response.json()["error"] == "InvalidParameterValue"
        assert "image id" in response.json()["message"]

    with healthy.http() as http:
        for image_id, *_ in cases:
            assert http.get(f"/media/{image_id}").status_code == 404
        assert http.get("/media/bad.id").status_code == 400
    time.sleep(0.5)  # had an event gone out, its consumers would be at work by now
    assert _stored(healthy) == before  # no file, no row, no event


# -- one consumer broken --------------------------------------------------------------


def test_a_broken_consumer_does_not_stop_the_others(tmp_path: Path) -> None:
    environment = _environment(MEDIA_BROKEN="resize_for_4k")
    database = f"sqlite:///{tmp_path / 'media.db'}"
    with running_app(APP, database, tmp_path / "eventyard.log", env=environment) as app:
        response = _upload(app, "profile", _jpeg(5000, 3000))
        assert response.status_code == 202, response.text
        detail = response.json()["detail"]
        state = _wait_for(
            app,
            "profile",
            lambda f: (
                {n: f[n]["status"] for n in FUNCTIONS}
                == {"resize_for_mobile": "done", "resize_for_4k": "failed", "update_cache": "done"}
            ),
            "two done, one failed",
        )
        assert "MEDIA_BROKEN" in state["functions"]["resize_for_4k"]["error"]
        assert state["cache"]["renditions"]["mobile"]["width"] == 1080

        with eventyard.connect(database) as client:
            failures = client.get_queue("MediaFailures")
            messages = failures.receive(max_messages=10, wait_seconds=10)
            assert len(messages) == 1
            record = messages[0].body
            failures.delete(messages[0].receipt_handle)
            assert failures.stats().visible == 0  # only the broken one failed
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["functionArn"].endswith(":function:resize_for_4k:$LATEST")
        assert record["requestContext"]["approximateInvokeCount"] == 1  # MEDIA_RETRIES=0
        assert record["requestPayload"]["detail"] == detail
        assert record["responsePayload"]["errorType"] == "BrokenOnPurpose"

    media = tmp_path / "media"
    assert _size(media / "mobile" / "profile.jpg") == (1080, 648)
    assert not (media / "4k").exists()  # the broken function wrote nothing, not even a temp file

    # Fixed and restarted: the failed event, put back on the bus, completes the 4K rendition;
    # the two that had done their work recognize it and skip it.
    with running_app(APP, database, tmp_path / "eventyard.log", env=_environment()) as app:
        event = record["requestPayload"]
        with eventyard.connect(database) as client:
            client.bus().put_events(
                [
                    {
                        "source": event["source"],
                        "detail_type": event["detail-type"],
                        "detail": event["detail"],
                    }
                ]
            ).raise_for_errors()
        state = _wait_for(app, "profile", _all_done, "the 4K rendition after the fix")
        assert [state["functions"][n]["runs"] for n in FUNCTIONS] == [1, 1, 1]
        assert [state["functions"][n]["duplicates"] for n in FUNCTIONS] == [1, 0, 1]
        assert state["functions"]["resize_for_4k"]["failures"] == 1
    assert _size(media / "4k" / "profile.jpg") == (3600, 2160)
