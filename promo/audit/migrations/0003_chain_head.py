"""The chain's head in one row: an append is then a single statement.

``record()`` updates this row (a row lock: a concurrent append waits, then PostgreSQL
re-reads the row it waited for, so it chains onto the entry just committed) and inserts the
entry with the hash the update computed, in one ``WITH … UPDATE … INSERT``. The row is not a
trail: the application role may update it. Changing it by hand cannot hide anything — the
next entry's previous hash would then not be the last entry's hash, and audit_verify says so.
A superuser's TRUNCATE of the trail (Django's test flush) puts the head back to the start.
"""

from django.db import migrations

GENESIS = "0" * 64

FORWARD = f"""
CREATE TABLE audit_chainhead (
    id integer PRIMARY KEY CHECK (id = 1),
    hash varchar(64) NOT NULL,
    prev varchar(64) NOT NULL
);
INSERT INTO audit_chainhead (id, hash, prev) VALUES (1, coalesce(
    (SELECT hash FROM audit_auditentry ORDER BY id DESC LIMIT 1),
    (SELECT last_hash FROM audit_auditanchor ORDER BY id DESC LIMIT 1),
    '{GENESIS}'), '');

CREATE OR REPLACE FUNCTION audit_head_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_chainhead SET hash = '{GENESIS}', prev = '' WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_head_reset AFTER TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_reset();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_head_reset ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_head_reset();
DROP TABLE IF EXISTS audit_chainhead;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_and_prune")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
