"""What compiled patterns and filter policies share: immutability and their JSON."""

from __future__ import annotations

import json
from typing import Any


class CompiledJson:
    """An immutable compiled object that keeps its source as compact JSON (key order kept)."""

    __slots__ = ("_json",)

    _json: str

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def json(self) -> str:
        """The source as compact JSON (key order kept); store this to rebuild it."""
        return self._json

    @property
    def source(self) -> dict[str, Any]:
        """A fresh copy of the source as a dict."""
        result: dict[str, Any] = json.loads(self._json)
        return result
