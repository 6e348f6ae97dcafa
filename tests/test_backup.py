"""Backups are tested by restoring them: a dump of a database with history goes into a fresh
database, which then passes ``manage.py check``, has every migration applied, answers a smoke
read through Django, records history and refuses edits of the append-only trail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from leads.choices import LeadStatus
from leads.models import Lead, LeadStatusEvent
from promo.core.backup import (
    DUMP_NAME,
    BackupError,
    Database,
    backup,
    read_manifest,
    restore,
    table_counts,
    trigger_names,
)
from tests.factories import make_bureau, make_lead

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def source(transactional_db) -> Database:
    """The test database with a bureau, leads through several statuses and their history."""
    bureau = make_bureau()
    make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    make_lead(bureau.outsider, status=LeadStatus.SIGNED)
    make_lead(bureau.teammate, status=LeadStatus.DROPPED)
    return Database.from_settings(connection.settings_dict)


@pytest.fixture
def target(source: Database):
    """A database name for the restore, dropped afterwards whatever happened."""
    db = source.with_name(f"{source.name}_restored")
    yield db
    conn = psycopg2.connect(source.url("postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    conn.close()


def _media(tmp_path: Path) -> Path:
    media = tmp_path / "media"
    (media / "evidence" / "2026" / "11").mkdir(parents=True)
    (media / "evidence" / "2026" / "11" / "开工证明.pdf").write_bytes(b"%PDF-1.4 groundbreaking")
    return media


def _manage(db: Database, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db.url(), "PROMO_TESTING": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_a_backup_restores_into_a_working_database(source, target, tmp_path):
    media = _media(tmp_path)
    folder = backup(source, media, tmp_path / "backups")
    manifest = read_manifest(folder)
    assert manifest["tables"]["leads_lead"] == 3
    assert manifest["tables"]["leads_leadstatusevent"] == LeadStatusEvent.objects.count() > 0

    restored_media = tmp_path / "restored-media"
    restore(folder, target, restored_media)

    # Every row and trigger came back, and the evidence files with their bytes.
    assert table_counts(target) == table_counts(source)
    assert trigger_names(target) == trigger_names(source)
    assert any(name.startswith("leads_lead.") for name in trigger_names(target))
    copy = restored_media / "evidence" / "2026" / "11" / "开工证明.pdf"
    assert copy.read_bytes() == b"%PDF-1.4 groundbreaking"

    # Django sees a complete schema and reads the data.
    check = _manage(target, "check", "--database", "default")
    assert check.returncode == 0, check.stderr
    migrations = _manage(target, "migrate", "--check")
    assert migrations.returncode == 0, migrations.stdout + migrations.stderr
    names = sorted(Lead.objects.values_list("name", flat=True))
    read = _manage(
        target,
        "shell",
        "-c",
        "from leads.models import Lead; print(sorted(Lead.objects.values_list('name', flat=True)))",
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip().splitlines()[-1] == str(names)

    conn = target.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            # The history trigger still records a change…
            cursor.execute("SELECT count(*) FROM leads_leadevent")
            before = cursor.fetchone()[0]
            cursor.execute("UPDATE leads_lead SET name = name || '（复核）'")
            cursor.execute("SELECT count(*) FROM leads_leadevent")
            assert cursor.fetchone()[0] == before + 3
            # …and the trail is still append-only.
            with pytest.raises(psycopg2.Error, match=r"Cannot update or delete"):
                cursor.execute("UPDATE leads_leadstatusevent SET note = 'rewritten'")
            with pytest.raises(psycopg2.Error, match=r"Cannot update or delete"):
                cursor.execute("DELETE FROM leads_leadstatusevent")
    finally:
        conn.close()


def test_a_damaged_backup_is_refused_before_anything_is_written(source, target, tmp_path):
    folder = backup(source, _media(tmp_path), tmp_path / "backups")
    dump = folder / DUMP_NAME
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    with pytest.raises(BackupError, match="checksum"):
        restore(folder, target, tmp_path / "restored-media")
    exists = source.query("SELECT 1 FROM pg_database WHERE datname = %s", [target.name])
    assert exists == []
    assert not (tmp_path / "restored-media").exists()


def test_restore_never_overwrites_without_replace(source, target, tmp_path):
    folder = backup(source, _media(tmp_path), tmp_path / "backups")
    restore(folder, target, None)
    conn = target.connect()
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("UPDATE leads_lead SET name = '只在副本里'")
    conn.close()

    with pytest.raises(BackupError, match="--replace"):
        restore(folder, target, None)
    assert target.query("SELECT DISTINCT name FROM leads_lead") == [("只在副本里",)]

    restore(folder, target, None, replace=True)
    assert ("只在副本里",) not in target.query("SELECT DISTINCT name FROM leads_lead")
    assert table_counts(target) == table_counts(source)


def test_the_commands_back_up_and_restore(source, target, tmp_path, settings, capsys):
    settings.MEDIA_ROOT = _media(tmp_path)
    call_command("backup", "--to", str(tmp_path / "backups"))
    folder = Path(capsys.readouterr().out.strip())
    assert (folder / "manifest.json").is_file()

    call_command("restore", str(folder), "--into", target.name)
    out = capsys.readouterr().out
    assert f"into {target.name}" in out and "triggers" in out
    assert table_counts(target) == table_counts(source)

    with pytest.raises(CommandError, match="exists"):
        call_command("restore", str(folder), "--into", target.name)
    with pytest.raises(CommandError, match="not a promo backup"):
        call_command("restore", str(tmp_path), "--into", target.name + "_x")
