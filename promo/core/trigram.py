"""pg_trgm where the server has it (the header search, docs/search.md).

The search keys are matched with ``LIKE '%term%'``, which PostgreSQL answers from a trigram
GIN index when the ``pg_trgm`` extension is installed — as on every PostgreSQL package and
image a bureau runs (Debian's, the official Docker image: the contrib modules come with the
server). The embedded server ``make run``/``make test`` start from PyPI (pgserver) ships no
contrib modules: there the migration leaves the index out and the same query reads the
table, right but without the index (and the plan test of the index is skipped there).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def trigram_available(connection: Any) -> bool:
    """Whether the server can load pg_trgm (installed or installable)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        return cursor.fetchone() is not None


def trigram_installed(connection: Any) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


class AddTrigramIndex(migrations.AddIndex):
    """``AddIndex`` of a ``gin_trgm_ops`` index: creates pg_trgm first, and on a server
    without it leaves the index out (the model state has it either way, so
    ``makemigrations --check`` agrees on both kinds of server)."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if not trigram_available(schema_editor.connection):
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{self.index.name}"')
