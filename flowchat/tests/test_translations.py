"""The Russian and English catalogues cover every string and the committed .mo files match them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from conftest import require

CATALOGUES = sorted(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po"))


def test_there_is_a_catalogue_for_every_language():
    languages = {path.parts[-3] for path in CATALOGUES}
    assert languages == {code for code, _name in settings.LANGUAGES}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parts[-3])
def test_catalogue_is_fully_translated_and_compiled(po, tmp_path):
    require(shutil.which("msgfmt") is not None, "gettext's msgfmt is not installed (apt-get install gettext)")
    compiled = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(compiled), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr
    assert compiled.read_bytes() == po.with_suffix(".mo").read_bytes(), f"run: msgfmt -o {po.with_suffix('.mo')} {po}"


def test_russian_interface_strings_are_russian():
    with translation.override("ru"):
        assert translation.gettext("Settings") == "Настройки"
        assert translation.gettext("Log out") == "Выйти"
