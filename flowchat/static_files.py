"""Static files with their content's hash in their names, so that WhiteNoise may let browsers keep them for good.

WhiteNoise answers a file whose name carries a hash with `Cache-Control: max-age=315360000,
public, immutable`; a changed file gets a new name, so nobody is left with an old one. Names
come from the manifest `collectstatic` writes (bin/run runs it). Before it has run (a test's
server, a process started by hand), pages still render, with the plain names.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFiles(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: the file is not in STATIC_ROOT to be hashed
            return name
