"""`LocalService`: a stand-in server the example starts and stops, usable as a context manager."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class LocalService:
    """Subclasses implement `start` (returning self once it serves) and `stop`."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
