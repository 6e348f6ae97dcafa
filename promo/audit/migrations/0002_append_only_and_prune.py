"""The audit tables refuse UPDATE, DELETE and TRUNCATE; audit_prune() alone removes old entries.

The triggers hold against the owner too (only a superuser may TRUNCATE, as Django's test flush
does; a superuser can bypass any trigger anyway). A DELETE passes only inside audit_prune(),
a SECURITY DEFINER function owned by the schema owner: it deletes the oldest entries older
than ``keep_days`` (never fewer than 180), under the chain's lock, and leaves an anchor (the
last deleted entry's id and hash) from which audit_verify checks the rest. The application
role has no DELETE on the table (manage.py db_roles), so it can prune only through it.
"""

from django.db import migrations

CHAIN_LOCK = 123636798025473  # promo.audit.services.CHAIN_LOCK
MIN_DAYS = 180

FORWARD = f"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_auditentry'
            AND current_setting('promo.audit_pruning', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE'
            AND (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditanchor
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditanchor
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

CREATE OR REPLACE FUNCTION audit_prune(keep_days integer, batch integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    last_id bigint;
    last_hash varchar;
    deleted integer;
BEGIN
    IF keep_days < {MIN_DAYS} THEN
        RAISE EXCEPTION 'audit entries are kept at least {MIN_DAYS} days (asked %)', keep_days;
    END IF;
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
    SELECT s.id, s.hash INTO last_id, last_hash FROM (
        SELECT e.id, e.hash FROM audit_auditentry e
        WHERE e.at < now() - make_interval(days => keep_days)
        ORDER BY e.id LIMIT greatest(batch, 1)
    ) s ORDER BY s.id DESC LIMIT 1;
    IF last_id IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM set_config('promo.audit_pruning', 'on', true);
    -- A prefix of the chain: ids are taken in time order under the chain's lock.
    DELETE FROM audit_auditentry e WHERE e.id <= last_id;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('promo.audit_pruning', 'off', true);
    INSERT INTO audit_auditanchor (pruned_at, last_id, last_hash, deleted)
        VALUES (now(), last_id, last_hash, deleted);
    RETURN deleted;
END
$$;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS audit_prune(integer, integer);
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditentry;
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditanchor;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditanchor;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_trail")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
