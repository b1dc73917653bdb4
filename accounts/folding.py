"""Names folded for search: the same letters match whatever their case, in every alphabet.

Databases disagree on case: SQLite's LIKE folds ASCII only (`иванов` does not find "Иванов"),
PostgreSQL's follows the database's collation, and neither treats ё as е, which Russian
writing uses interchangeably. So the folding is done once, here, in Python, and stored
(User.search_name): both databases then compare folded text with a plain LIKE, and find the
same people.
"""

from __future__ import annotations

import unicodedata

# Between the folded fields, so that a word never matches across the end of one and the start of
# the next: search words are split on whitespace and cannot contain it.
SEPARATOR = "\n"


def fold(text: str) -> str:
    """`text` as search compares it: compatibility-normalised, case-folded, ё as е."""
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def search_name(username: str, first_name: str, last_name: str) -> str:
    """What people search a person by: their username, first and last name, folded."""
    return SEPARATOR.join(fold(part) for part in (username, first_name, last_name))
