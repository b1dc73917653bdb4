"""The message search index (conversations.search): FTS5 on SQLite, a GIN index on PostgreSQL.

SQLite: an external-content FTS5 table over the messages' text, kept by triggers (a deleted
message's text is blanked, so it leaves the index with that update). PostgreSQL: a stored
generated column of the English and the Russian stemmed forms of the text, with a GIN index
(not in the model: only conversations.search reads it, in its own SQL).
"""

from django.db import migrations

# Kept equal to conversations.search.PG_DOCUMENT (checked by conversations/tests/test_search.py).
PG_DOCUMENT = "to_tsvector('english'::regconfig, text) || to_tsvector('russian'::regconfig, text)"

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE conversations_message_search USING fts5(
        text, content='conversations_message', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER conversations_message_search_insert AFTER INSERT ON conversations_message BEGIN
        INSERT INTO conversations_message_search(rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER conversations_message_search_delete AFTER DELETE ON conversations_message BEGIN
        INSERT INTO conversations_message_search(conversations_message_search, rowid, text)
        VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER conversations_message_search_update AFTER UPDATE OF text ON conversations_message BEGIN
        INSERT INTO conversations_message_search(conversations_message_search, rowid, text)
        VALUES ('delete', old.id, old.text);
        INSERT INTO conversations_message_search(rowid, text) VALUES (new.id, new.text);
    END""",
    "INSERT INTO conversations_message_search(conversations_message_search) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS conversations_message_search_update",
    "DROP TRIGGER IF EXISTS conversations_message_search_delete",
    "DROP TRIGGER IF EXISTS conversations_message_search_insert",
    "DROP TABLE IF EXISTS conversations_message_search",
]
PG_FORWARD = [
    # Stored, so that ranking a common word's thousands of matches reads vectors, not re-parses text.
    f"ALTER TABLE conversations_message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED",
    "CREATE INDEX conversations_message_search ON conversations_message USING gin (search_vector)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS conversations_message_search",
    "ALTER TABLE conversations_message DROP COLUMN IF EXISTS search_vector",
]


def run(statements: dict[str, list[str]]):
    def apply(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("conversations", "0005_chat_is_open")]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        ),
    ]
