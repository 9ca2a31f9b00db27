"""Files under the media folder, the bucket's role: keys, and atomic writes.

A file is written to a temporary name in its folder, fsync'd, then renamed
over the final name (``os.replace``): a reader sees the old file or the new
one, never half of one, and a crash leaves at most a ``.tmp`` file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from types import TracebackType


def original_key(image_id: str, sha256: str, extension: str) -> str:
    """Content-addressed: the same bytes uploaded twice are one file."""
    return f"originals/{image_id}/{sha256}.{extension}"


def rendition_key(image_id: str, kind: str) -> str:
    """One path per image and kind: a redelivered event overwrites, never adds."""
    return f"{kind}/{image_id}.jpg"


class StagedFile:
    """``data`` written next to ``path`` under a temporary name; `commit` renames it over.

    Leaving the ``with`` block without `commit` removes the temporary file.
    """

    def __init__(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        self.path, self._temporary = path, Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            self._temporary.unlink(missing_ok=True)
            raise
        self.committed = False

    def commit(self) -> None:
        os.replace(self._temporary, self.path)
        self.committed = True
        with contextlib.suppress(OSError):  # the rename itself, durable (POSIX)
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self.committed:
            self._temporary.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    with StagedFile(path, data) as staged:
        staged.commit()
