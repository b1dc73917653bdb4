"""Uploaded pictures: verified with Pillow, limited, re-encoded and stored under random names.

Every picture a person uploads (avatars now, chat pictures later) goes through
`clean_image`, so nothing an uploader controls — EXIF and GPS tags, embedded
scripts, a decompression bomb, a misleading extension — reaches storage.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def random_name(folder: str, filename: str) -> str:
    """A storage path that reveals nothing about the upload and cannot be guessed."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"{folder}/{uuid.uuid4().hex}.{extension}"


@dataclass(frozen=True)
class ImageSpec:
    """What to make of an upload: a square crop of `size` px, or a bounded `size` px long side."""

    size: int
    square: bool


AVATAR = ImageSpec(size=256, square=True)
CHAT_PHOTO = ImageSpec(size=256, square=True)
# A chat picture is kept at most 2048px on its long side, and shown in the chat as a 480px thumbnail.
PICTURE = ImageSpec(size=2048, square=False)
THUMBNAIL = ImageSpec(size=480, square=False)


def clean_image(upload: UploadedFile, spec: ImageSpec) -> ContentFile:
    """Return the upload re-encoded as WebP, or raise ValidationError saying what is wrong with it."""
    return clean_images(upload, [spec])[0]


def clean_images(upload: UploadedFile, specs: Sequence[ImageSpec]) -> list[ContentFile]:
    """Decode the upload once and re-encode it as WebP for each spec; ValidationError if it is not fit."""
    max_bytes = settings.UPLOAD_MAX_BYTES
    max_pixels = settings.UPLOAD_MAX_PIXELS
    if upload.size is not None and upload.size > max_bytes:
        raise ValidationError(
            _("The file is too large (%(size)s). The limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes)},
            code="file_too_large",
        )
    not_an_image = ValidationError(
        _("Upload a JPEG, PNG, GIF or WebP picture. This file is not one, or it is damaged."),
        code="invalid_image",
    )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(
            _("The file is too large. The limit is %(limit)s.") % {"limit": filesizeformat(max_bytes)},
            code="file_too_large",
        )
    too_many_pixels = ValidationError(
        _("The picture has too many pixels. The limit is %(limit)s megapixels.") % {"limit": _megapixels(max_pixels)},
        code="too_many_pixels",
    )
    with warnings.catch_warnings():
        # Pillow warns (and past twice its own limit, raises) about huge images
        # while merely opening them; both mean the same as our own pixel limit.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # Only the accepted decoders are tried, so no other format's parser
            # (EPS with Ghostscript, PSD, ...) ever sees uploaded bytes.
            with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS)) as probe:
                width, height = probe.size
                if width * height > max_pixels:
                    raise ValidationError(
                        _(
                            "The picture is too large (%(width)s by %(height)s pixels). "
                            "The limit is %(limit)s megapixels."
                        )
                        % {"width": width, "height": height, "limit": _megapixels(max_pixels)},
                        code="too_many_pixels",
                    )
                probe.verify()
            with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                pictures = [_reshape(upright, spec) for spec in specs]
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise too_many_pixels from exc
        except UnidentifiedImageError as exc:
            raise not_an_image from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            # Truncated or corrupt data surfaces as any of these from Pillow's decoders.
            raise not_an_image from exc
    return [_encode(picture) for picture in pictures]


def _encode(picture: Image.Image) -> ContentFile:
    output = io.BytesIO()
    picture.save(output, format="WEBP", quality=85, method=4)
    return ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.webp")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}"


def _reshape(image: Image.Image, spec: ImageSpec) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if has_alpha else "RGB")
    if spec.square:
        return ImageOps.fit(image, (spec.size, spec.size), method=Image.Resampling.LANCZOS)
    image.thumbnail((spec.size, spec.size), Image.Resampling.LANCZOS)
    return image
