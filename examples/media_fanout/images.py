"""The image work, with Pillow: check an upload, and render a JPEG that fits a box.

Sizes are "as displayed": an EXIF orientation of 5-8 (a phone held upright)
swaps width and height, and renditions are turned upright. A rendition never
upscales: an image already inside the box keeps its size (re-encoded as JPEG).
EXIF (GPS position included) is not copied into renditions.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

Box = tuple[int, int]

#: Formats accepted from users (Pillow can open more, some through external programs).
FORMATS: Final = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
EXTENSIONS: Final = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "BMP": "bmp"}
MAX_PIXELS: Final = 40_000_000
_ORIENTATION: Final = 0x0112  # the EXIF tag
_SWAPPED: Final = frozenset({5, 6, 7, 8})  # orientations that turn the image a quarter


class ImageRejected(Exception):
    """An upload that is not an image we take: an HTTP status, a code and why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int  # as displayed (EXIF orientation applied)
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.format, self.format.lower())


@dataclass(frozen=True)
class Rendered:
    data: bytes  # JPEG
    width: int
    height: int


def fit(size: Box, box: Box) -> Box:
    """The largest size of ``size``'s aspect ratio inside ``box``, never larger than ``size``."""
    width, height = size
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _displayed_size(image: Image.Image) -> Box:
    width, height = image.size
    if image.getexif().get(_ORIENTATION) in _SWAPPED:
        return height, width
    return width, height


def inspect_image(data: bytes) -> ImageInfo:
    """Decode the whole image (a truncated file fails here, not in a consumer)."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ImageRejected(
                    422,
                    "ImageTooLarge",
                    f"the image is {image.width}x{image.height} pixels; the limit is "
                    f"{MAX_PIXELS:,} pixels",
                )
            image.load()
            width, height = _displayed_size(image)
            return ImageInfo(str(image.format), width, height)
    except UnidentifiedImageError:
        raise ImageRejected(
            415,
            "NotAnImage",
            f"the body is not an image in a format we accept ({', '.join(FORMATS)})",
        ) from None
    except Image.DecompressionBombError as exc:
        raise ImageRejected(422, "ImageTooLarge", str(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(422, "BrokenImage", f"the image cannot be decoded: {exc}") from None


def _flatten(image: Image.Image) -> Image.Image:
    """RGB or L for JPEG: transparency over white."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def render_jpeg(source: Path, box: Box, quality: int = 85) -> Rendered:
    """``source`` upright, fitted into ``box`` (see `fit`), as JPEG bytes."""
    with Image.open(source, formats=FORMATS) as opened:
        displayed = _displayed_size(opened)
        target = fit(displayed, box)
        swapped = displayed != opened.size
        # A JPEG decodes straight at 1/2, 1/4 or 1/8 scale when that is still large enough.
        opened.draft(None, (target[1], target[0]) if swapped else target)
        upright = ImageOps.exif_transpose(opened) or opened
        image = _flatten(upright)
        if image.size != target:
            image = image.resize(target, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return Rendered(out.getvalue(), *target)
