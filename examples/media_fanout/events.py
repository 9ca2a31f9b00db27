"""The ``ImageUploaded`` event: the contract between the upload and its consumers."""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

SOURCE: Final = "media.uploads"
DETAIL_TYPE: Final = "ImageUploaded"
#: The event pattern of every consumer's rule.
PATTERN: Final = {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}
#: An image id: 1-64 letters, digits, ``_`` or ``-``, starting with a letter or digit.
IMAGE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class ImageUploaded(BaseModel):
    """An upload's detail. ``sha256`` names this version of the image: consumers key on
    (``image_id``, ``sha256``), so a redelivery is recognized and a stale event skipped."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    image_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    key: str  # the original, under the media folder
    format: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    size_bytes: int = Field(gt=0)

    @model_validator(mode="after")
    def _key_is_the_original(self) -> ImageUploaded:
        # Consumers read `key` and write under `image_id`: neither may leave the media folder.
        if not IMAGE_ID.fullmatch(self.image_id):
            raise ValueError(f"image_id {self.image_id!r} is not a safe image id")
        if not re.fullmatch(rf"originals/{self.image_id}/{self.sha256}\.[a-z]+", self.key):
            raise ValueError(f"key {self.key!r} is not this upload's original")
        return self

    def entry(self) -> dict[str, Any]:
        """The entry for ``put_events``."""
        return {"source": SOURCE, "detail_type": DETAIL_TYPE, "detail": self.model_dump()}

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> ImageUploaded:
        return cls.model_validate(event["detail"])
