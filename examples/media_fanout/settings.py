"""What the environment configures: the media folder, failure injection, retries, upload size.

- ``MEDIA_DIR``: where originals and renditions go (default: a ``media`` folder next to
  the SQLite database file).
- ``MEDIA_BROKEN``: comma-separated function names that fail on every event, to show that
  one consumer failing does not stop the others (e.g. ``MEDIA_BROKEN=resize_for_4k``).
- ``MEDIA_RETRIES``: retries of a failed function, 0-2 (default 2, as Lambda). eventyard
  waits 60 s then 120 s between them, so tests set 0.
- ``MEDIA_MAX_UPLOAD_BYTES``: the largest upload accepted (default 20 MiB).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import eventyard

#: The three independent consumers of ``ImageUploaded``.
FUNCTIONS: Final = ("resize_for_mobile", "resize_for_4k", "update_cache")
DEFAULT_MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
DEFAULT_RETRIES: Final = 2


def media_dir(client: eventyard.Client) -> Path:
    """``$MEDIA_DIR``, else ``media/`` next to the database file (``client.url``)."""
    configured = os.environ.get("MEDIA_DIR")
    if configured:
        return Path(configured).resolve()
    prefix = "sqlite:///"
    if not client.url.startswith(prefix):
        raise RuntimeError(f"set MEDIA_DIR: the database {client.url!r} is not a SQLite file")
    return Path(client.url[len(prefix) :]).resolve().parent / "media"


def broken_functions() -> frozenset[str]:
    """The functions ``$MEDIA_BROKEN`` names (read at each call, in the worker)."""
    names = frozenset(n.strip() for n in os.environ.get("MEDIA_BROKEN", "").split(",") if n.strip())
    unknown = names - set(FUNCTIONS)
    if unknown:
        raise ValueError(
            f"MEDIA_BROKEN names {', '.join(sorted(unknown))}; the functions are "
            f"{', '.join(FUNCTIONS)}"
        )
    return names


def _int_env(name: str, default: int, low: int, high: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not an integer") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is outside {low}-{high}")
    return value


def retries() -> int:
    return _int_env("MEDIA_RETRIES", DEFAULT_RETRIES, 0, 2)


def max_upload_bytes() -> int:
    return _int_env("MEDIA_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES, 1, 64 * 1024 * 1024)
