"""Message search: in one's own chats only, never deleted text, ranked by relevance then recency.

PostgreSQL: full-text search over the English and the Russian stemmed forms of the text (the
stored column search_vector, PG_DOCUMENT, with a GIN index: migration 0006), so "кошки" finds
"кошка" and "running" finds "run"; snippets from ts_headline. SQLite: FTS5 with every word a prefix ("кош" finds
"Кошка": unicode61 folds every alphabet's case); snippets from snippet().

Paging is keyset on (relevance, id): `before` is the last message of the page before, and the
next page is what ranks below it, so page 50 costs what page 1 does.

Snippets come from the database with marks around the matched words: control characters
that a message cannot hold (actions.clean_text drops them), so the snippet is escaped whole
and only those marks become <mark>.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Prefetch
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User

from .models import Chat, Membership, Message

PG_DOCUMENT = "to_tsvector('english'::regconfig, text) || to_tsvector('russian'::regconfig, text)"
PG_QUERY = "(websearch_to_tsquery('english'::regconfig, %s) || websearch_to_tsquery('russian'::regconfig, %s))"
START, STOP = "\x02", "\x03"
# The words of a query as SQLite's FTS5 sees them: letters and digits of any alphabet.
WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_LENGTH = 200
MAX_WORDS = 10
PAGE_SIZE = 20


@dataclass(frozen=True)
class Found:
    message: Message
    snippet: SafeString


def marked(snippet: str) -> SafeString:
    """The database's snippet, escaped, with its marks as <mark> elements."""
    if snippet.count(START) != snippet.count(STOP):
        snippet = snippet.replace(START, "").replace(STOP, "")
    return mark_safe(escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S308 - escaped


def clean_query(query: str) -> str:
    return " ".join(query.replace("\x00", " ").split())[:MAX_QUERY_LENGTH]


def search_messages(
    user: User,
    query: str,
    *,
    chat: Chat | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
    whole: bool = False,
) -> tuple[list[Found], bool]:
    """A page of `user`'s messages matching `query` (best first), and whether there are more.

    Each message comes with its author and chat, as the results page shows them; `whole` loads
    all a Message of the API carries (reactions, files, link preview, the message replied to).
    """
    query = clean_query(query)
    if not query:
        return [], False
    chats = Chat.objects.for_user(user) if chat is None else Chat.objects.for_user(user).filter(pk=chat.pk)
    chat_ids = list(chats.values_list("pk", flat=True))
    if not chat_ids:
        return [], False
    if connection.vendor == "postgresql":
        rows = _postgresql(query, chat_ids, before, limit + 1)
    else:
        rows = _sqlite(query, chat_ids, before, limit + 1)
    if rows is None:
        return [], False
    more = len(rows) > limit
    rows = rows[:limit]
    # Each result names its chat, a direct chat by the other person: the members of direct chats
    # come along (a group is named by its title: its members, maybe thousands, are not loaded).
    direct_members = Prefetch(
        "chat__memberships", queryset=Membership.objects.filter(chat__is_group=False).select_related("user")
    )
    loaded = Message.objects.with_people() if whole else Message.objects.select_related("author")
    loaded = loaded.select_related("chat").prefetch_related(direct_members)
    messages = loaded.in_bulk([row[0] for row in rows])
    return [Found(messages[pk], marked(snippet)) for pk, snippet in rows if pk in messages], more


def _postgresql(query: str, chat_ids: list[int], before: int | None, limit: int) -> list[tuple[int, str]]:
    rank = f"ts_rank(search_vector, {PG_QUERY})"
    keyset, keyset_params = "", []
    if before is not None:
        # What ranks below the last one shown: lower, or as high and older.
        keyset = f"AND ({rank}, id) < (SELECT {rank}, id FROM conversations_message WHERE id = %s)"  # noqa: S608
        keyset_params = [query, query, query, query, before]
    # The russian configuration stems Latin words with the English stemmer: one headline marks both.
    sql = f"""
        SELECT id, ts_headline('russian'::regconfig, text, {PG_QUERY},
                               'StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12')
        FROM (
            SELECT id, text, {rank} AS rank FROM conversations_message
            WHERE chat_id = ANY(%s) AND kind = 'text' AND deleted_at IS NULL
              AND search_vector @@ {PG_QUERY} {keyset}
            ORDER BY rank DESC, id DESC
            LIMIT %s
        ) AS page
        ORDER BY rank DESC, id DESC
    """  # noqa: S608 - only this module's constants are formatted in; every value is a parameter
    params = [query, query, query, query, chat_ids, query, query, *keyset_params, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _fts5_query(query: str) -> str | None:
    words = WORD.findall(query)[:MAX_WORDS]
    # Each word quoted (so that nothing in it is FTS5 syntax) and a prefix.
    return " ".join(f'"{word}"*' for word in words) or None


def _sqlite(query: str, chat_ids: list[int], before: int | None, limit: int) -> list[tuple[int, str]] | None:
    match = _fts5_query(query)
    if match is None:
        return None
    placeholders = ", ".join("%s" for _ in chat_ids)
    keyset, keyset_params = "", []
    if before is not None:
        # bm25 is lower for a better match: below the last one shown is a higher score, or the
        # same score and older.
        score = (
            "(SELECT bm25(conversations_message_search) FROM conversations_message_search "
            "WHERE conversations_message_search MATCH %s AND rowid = %s)"
        )
        keyset = f"AND (found.rank > {score} OR (found.rank = {score} AND m.id < %s))"
        keyset_params = [match, before, match, before, before]
    sql = f"""
        SELECT m.id, found.snippet FROM (
            SELECT rowid, bm25(conversations_message_search) AS rank,
                   snippet(conversations_message_search, 0, '{START}', '{STOP}', '…', 16) AS snippet
            FROM conversations_message_search WHERE conversations_message_search MATCH %s
        ) AS found
        JOIN conversations_message AS m ON m.id = found.rowid
        WHERE m.chat_id IN ({placeholders}) AND m.kind = 'text' AND m.deleted_at IS NULL {keyset}
        ORDER BY found.rank, m.id DESC
        LIMIT %s
    """  # noqa: S608 - only this module's constants and placeholders are formatted in
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *chat_ids, *keyset_params, limit])
        return cursor.fetchall()
