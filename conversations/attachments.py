"""Files attached to messages: what is kept of an upload, and how it is named, typed and shown.

Any file may be attached (up to MAX_ATTACHMENTS a message, each up to UPLOAD_MAX_BYTES, all of a
message's files and its picture together up to MESSAGE_UPLOAD_MAX_BYTES). Nothing the uploader
controls is trusted:

- the stored name is random (models.attachment_path); the original name is kept for display only,
  cleaned of path parts, control and bidi characters, and bounded (`clean_name`);
- a file that verifies as a picture (flowchat.images) is re-encoded like a message picture, EXIF
  and GPS tags gone, with a thumbnail; it alone may be shown inline;
- anything else is stored as it came and always served as application/octet-stream with
  `Content-Disposition: attachment` (views.attachment_file). Its content_type is only a label,
  derived from the name, and never says image/* for what did not verify as an image.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from PIL import Image

from flowchat.images import PICTURE, THUMBNAIL, clean_images

MAX_ATTACHMENTS = 10
NAME_MAX_LENGTH = 120
EXTENSION_MAX_LENGTH = 16
OCTET_STREAM = "application/octet-stream"
CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")
# Unicode categories a shown name loses: controls (Cc), format characters such as the bidi
# overrides U+202E and isolates U+2066-U+2069 (Cf), line and paragraph separators, surrogates,
# unassigned and private-use code points.
DROPPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Cn", "Co"}


@dataclass(frozen=True)
class PreparedFile:
    """An upload checked and ready to store (`actions.send_message(files=...)`)."""

    name: str
    content: File
    size: int
    content_type: str
    is_image: bool = False
    width: int | None = None
    height: int | None = None
    thumbnail: File | None = None


def _shown(char: str) -> str:
    """A character of a shown name: any blank a space, what cannot be shown nothing."""
    category = unicodedata.category(char)
    if category == "Zs" or char in "\t\n\r\u2028\u2029":
        return " "
    return "" if category in DROPPED_CATEGORIES else char


def clean_name(raw: str | None) -> str:
    """The name to show for an upload: its last path part, printable, at most NAME_MAX_LENGTH characters.

    Never a path: "../../etc/passwd" is shown as "passwd" and stored nowhere near it.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(_shown(char) for char in name)
    name = " ".join(name.split())
    if not name.strip("."):
        return "file"  # nothing left, or only "." / ".."
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= EXTENSION_MAX_LENGTH:
            name = stem[: NAME_MAX_LENGTH - len(extension) - 2] + "…." + extension
        else:
            name = name[: NAME_MAX_LENGTH - 1] + "…"
    return name


def label_type(name: str) -> str:
    """The content type a file's name suggests, as a label only; never an image type (that takes verifying)."""
    guessed = (mimetypes.guess_type(name, strict=False)[0] or "").lower()
    if not CONTENT_TYPE.fullmatch(guessed) or guessed.startswith("image/"):
        return OCTET_STREAM
    return guessed


def _as_webp(name: str) -> str:
    stem = name.rpartition(".")[0] if "." in name.lstrip(".") else name
    return clean_name(f"{stem or 'picture'}.webp")


def prepare(upload: UploadedFile) -> PreparedFile:
    """One upload as it will be stored: a verified picture re-encoded, anything else as it is.

    The caller has checked its size; raises ValidationError only for a file too large to take.
    """
    name = clean_name(upload.name)
    try:
        full, thumbnail = clean_images(upload, [PICTURE, THUMBNAIL])
    except ValidationError as refusal:
        if refusal.code == "file_too_large":
            raise
        # Not a picture we can show (or too many pixels to decode): kept as a plain file, never decoded.
        upload.seek(0)
        return PreparedFile(name=name, content=upload, size=upload.size, content_type=label_type(name))
    with Image.open(full) as probe:
        width, height = probe.size
    full.seek(0)
    return PreparedFile(
        name=_as_webp(name),
        content=full,
        size=full.size,
        content_type="image/webp",
        is_image=True,
        width=width,
        height=height,
        thumbnail=thumbnail,
    )


KINDS = {
    "application/pdf": "pdf",
    "application/zip": "archive",
    "application/x-tar": "archive",
    "application/gzip": "archive",
    "application/x-7z-compressed": "archive",
    "application/vnd.rar": "archive",
    "application/x-rar-compressed": "archive",
    "application/json": "text",
    "application/msword": "document",
    "application/rtf": "document",
}


def kind_of(content_type: str, is_image: bool) -> str:
    """Which icon a file gets: image, pdf, archive, audio, video, text, document or file."""
    if is_image:
        return "image"
    if content_type in KINDS:
        return KINDS[content_type]
    major = content_type.split("/", 1)[0]
    if major in {"audio", "video", "text"}:
        return major
    if "officedocument" in content_type or "opendocument" in content_type:
        return "document"
    return "file"
