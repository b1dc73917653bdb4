"""The secret key when SECRET_KEY is not set: made once, kept in a local file outside git.

Sessions, CSRF tokens and password-reset links stay valid across restarts, and every process
on this machine (bin/serve on several ports) signs with the same key. The file is created
readable by its owner alone, and atomically: processes starting together agree on one key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def load_or_create(path: Path) -> str:
    """The key stored at `path`, creating it (0600) first if there is none."""
    if not path.exists():
        _create(path)
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"Set SECRET_KEY, or let FlowChat read its key file {path}: {exc}") from exc
    if len(key) < 50:
        raise ImproperlyConfigured(f"The key in {path} is too short: delete the file to have a new one made.")
    return key


def _create(path: Path) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(64) + "\n")
        # A hard link never replaces a file: whichever process links first made the key.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    except OSError as exc:
        raise ImproperlyConfigured(f"Set SECRET_KEY, or let FlowChat write its key file {path}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
