"""Backups: one folder holding the database (pg_dump custom format), the media files and a
manifest; and the restore that checks the manifest before it writes anything.

    manage.py backup [--to DIR]                      # DIR/promo-YYYYMMDD-HHMMSS/
    manage.py restore FOLDER [--into NAME] [--replace] [--media-root DIR]

The dump keeps the schema with its triggers (the django-pghistory history triggers and the
append-only protection of the trail tables), so a restored database records history and refuses
edits of the trail exactly like the original. The celery beat schedule file is not backed up:
beat rebuilds it, and the reconciling jobs create whatever a missed run should have made.

docs/operations.md describes production use (WAL archiving, point-in-time recovery).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from glob import glob
from pathlib import Path
from typing import Any
from urllib.parse import quote

DUMP_NAME = "database.dump"
MEDIA_NAME = "media.tar.gz"
MANIFEST_NAME = "manifest.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Database:
    """Where a PostgreSQL database is, as Django's settings name it."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str | int = ""

    @classmethod
    def from_settings(cls, settings_dict: dict[str, Any], name: str | None = None) -> Database:
        return cls(
            name=name or settings_dict["NAME"],
            user=settings_dict.get("USER") or "",
            password=settings_dict.get("PASSWORD") or "",
            host=settings_dict.get("HOST") or "",
            port=settings_dict.get("PORT") or "",
        )

    def url(self, name: str | None = None) -> str:
        """A libpq URI; a unix-socket directory goes percent-encoded into the host part."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        host = quote(str(self.host), safe="")
        port = f":{self.port}" if self.port else ""
        return f"postgresql://{auth}@{host}{port}/{quote(name or self.name, safe='')}"

    def connect(self, name: str | None = None):  # type: ignore[no-untyped-def]
        import psycopg2

        return psycopg2.connect(self.url(name))

    def query(
        self, sql: str, params: list[Any] | None = None, *, name: str | None = None
    ) -> list[tuple[Any, ...]]:
        """Rows of one statement on a connection of its own, closed afterwards."""
        conn = self.connect(name)
        try:
            with conn, conn.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def with_name(self, name: str) -> Database:
        return Database(name, self.user, self.password, self.host, self.port)


def _major(version_text: str) -> int:
    """16 from "pg_dump (PostgreSQL) 16.4" or "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0)"."""
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", version_text)
    if match is None:
        raise BackupError(f"cannot read a PostgreSQL version from {version_text!r}")
    return int(match.group(1))


def server_major(db: Database) -> int:
    return int(db.query("SHOW server_version_num")[0][0]) // 10000


def _candidate_bins() -> list[Path]:
    """Folders that may hold pg_dump/pg_restore: the embedded server's, PATH's, Debian's."""
    folders: list[Path] = []
    try:
        import importlib.util

        spec = importlib.util.find_spec("pgserver")
        if spec and spec.origin:
            folders.append(Path(spec.origin).parent / "pginstall" / "bin")
    except (ImportError, ValueError):
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        folders.append(Path(on_path).parent)
    folders += [Path(p).parent for p in sorted(glob("/usr/lib/postgresql/*/bin/pg_dump"))]
    return folders


def client_tool(tool: str, major: int) -> Path:
    """The oldest ``tool`` (pg_dump, pg_restore) not older than the server: pg_dump refuses
    to dump a newer server, and a much newer one is not needed."""
    found: dict[int, Path] = {}
    for folder in _candidate_bins():
        binary = folder / tool
        if not binary.exists():
            continue
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
        if result.returncode == 0:
            found.setdefault(_major(result.stdout), binary)
    usable = sorted(v for v in found if v >= major)
    if not usable:
        raise BackupError(
            f"no {tool} of PostgreSQL {major} or newer found (have: {sorted(found) or 'none'}); "
            f"install the PostgreSQL {major} client tools"
        )
    return found[usable[0]]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _table_counts(cursor: Any) -> dict[str, int]:
    """Row counts of every table of the public schema: the manifest's and the check's."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # names come from pg_tables
        counts[table] = cursor.fetchone()[0]
    return counts


def table_counts(db: Database) -> dict[str, int]:
    conn = db.connect()
    try:
        with conn, conn.cursor() as cursor:
            return _table_counts(cursor)
    finally:
        conn.close()


def trigger_names(db: Database) -> list[str]:
    """The user triggers of the public schema (history and append-only protection)."""
    rows = db.query(
        "SELECT c.relname || '.' || t.tgname FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND n.nspname = 'public' ORDER BY 1"
    )
    return [row[0] for row in rows]


def backup(db: Database, media_root: Path, to: Path, *, now: datetime | None = None) -> Path:
    """Write ``to/promo-<UTC stamp>/`` with the dump, the media archive and the manifest."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    folder = to / f"promo-{stamp}"
    if folder.exists():
        raise BackupError(f"{folder} exists already")
    folder.mkdir(parents=True)
    major = server_major(db)
    pg_dump = client_tool("pg_dump", major)
    dump = folder / DUMP_NAME
    # One snapshot for the dump and the manifest: the row counts are those of the dumped data
    # even while promo keeps writing (pg_dump --snapshot shares this transaction's view).
    conn = db.connect()
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            result = subprocess.run(
                [str(pg_dump), "--format=custom", "--no-owner", "--no-privileges",
                 f"--snapshot={snapshot}", f"--file={dump}", f"--dbname={db.url()}"],
                capture_output=True,
                text=True,
            )  # fmt: skip
            if result.returncode != 0:
                shutil.rmtree(folder)
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
            cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
            migrations = dict(cursor.fetchall())
            tables = _table_counts(cursor)
    finally:
        conn.close()
    media = folder / MEDIA_NAME
    with tarfile.open(media, "w:gz") as archive:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file():
                    archive.add(path, arcname=str(path.relative_to(media_root)))
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "database": db.name,
        "server_major": major,
        "pg_dump": str(pg_dump),
        "migrations": migrations,
        "tables": tables,
        "triggers": len(trigger_names(db)),
        "files": {name: _sha256(folder / name) for name in (DUMP_NAME, MEDIA_NAME)},
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return folder


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, after checking that every file is there and unchanged."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise BackupError(f"{folder} is not a promo backup: {MANIFEST_NAME} is missing")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    for name, digest in manifest["files"].items():
        if not (folder / name).is_file():
            raise BackupError(f"{name} is missing from {folder}")
        if _sha256(folder / name) != digest:
            raise BackupError(f"{name} in {folder} does not match its checksum: damaged copy")
    return manifest


def _database_exists(db: Database, name: str) -> bool:
    return bool(db.query("SELECT 1 FROM pg_database WHERE datname = %s", [name], name="postgres"))


def _admin(db: Database, sql: str) -> None:
    conn = db.connect("postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
    finally:
        conn.close()


def restore(
    folder: Path,
    db: Database,
    media_root: Path | None,
    *,
    replace: bool = False,
) -> dict[str, Any]:
    """Restore ``folder`` into the database ``db`` (created here) and the media folder.

    Refuses to overwrite an existing database or a non-empty media folder unless ``replace``;
    with ``replace`` the database must have no other sessions (stop promo first). The dump is
    restored in one transaction: a failure leaves no half-restored database behind.
    """
    manifest = read_manifest(folder)
    ident = '"' + db.name.replace('"', '""') + '"'
    if _database_exists(db, db.name):
        if not replace:
            raise BackupError(f"database {db.name} exists; pass --replace to overwrite it")
        sessions = db.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [db.name], name="postgres"
        )
        if sessions[0][0]:
            raise BackupError(f"database {db.name} is in use: stop promo before restoring")
        _admin(db, f"DROP DATABASE {ident}")
    if media_root is not None and media_root.is_dir() and any(media_root.iterdir()):
        if not replace:
            raise BackupError(f"{media_root} is not empty; pass --replace to overwrite it")
    _admin(db, f"CREATE DATABASE {ident} TEMPLATE template0 ENCODING 'UTF8'")
    pg_restore = client_tool("pg_restore", max(server_major(db), manifest["server_major"]))
    result = subprocess.run(
        [str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={db.url()}", str(folder / DUMP_NAME)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if result.returncode != 0:
        _admin(db, f"DROP DATABASE IF EXISTS {ident}")
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    if media_root is not None:
        if replace and media_root.is_dir():
            shutil.rmtree(media_root)
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(folder / MEDIA_NAME, "r:gz") as archive:
            archive.extractall(media_root, filter="data")
    counts = table_counts(db)
    differing = {
        table: (expected, counts.get(table))
        for table, expected in manifest["tables"].items()
        if counts.get(table) != expected
    }
    if differing:
        raise BackupError(f"restored row counts differ from the manifest: {differing}")
    if len(trigger_names(db)) != manifest["triggers"]:
        raise BackupError("restored database lacks triggers the original had")
    return manifest
