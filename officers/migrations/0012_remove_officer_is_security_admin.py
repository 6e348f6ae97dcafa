"""The security administrator's flag is gone: 0011 turned it into the role (decision 0019).
Apart from 0011 so that no row written there is pending when the table is altered."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('officers', '0011_security_admin_flag_becomes_a_role'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='officer',
            name='insert_insert',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='officer',
            name='update_update',
        ),
        migrations.RemoveField(
            model_name='officer',
            name='is_security_admin',
        ),
        migrations.RemoveField(
            model_name='officerevent',
            name='is_security_admin',
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='officer',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "officers_officerevent" ("date_joined", "email", "first_name", "full_name", "id", "is_active", "is_full_time", "is_staff", "is_superuser", "language", "last_name", "must_change_password", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "phone", "role", "title", "unit_id", "username") VALUES (NEW."date_joined", NEW."email", NEW."first_name", NEW."full_name", NEW."id", NEW."is_active", NEW."is_full_time", NEW."is_staff", NEW."is_superuser", NEW."language", NEW."last_name", NEW."must_change_password", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."phone", NEW."role", NEW."title", NEW."unit_id", NEW."username"); RETURN NULL;', hash='b673156137270957e38f33e7174944ca2897eec6', operation='INSERT', pgid='pgtrigger_insert_insert_8dae9', table='officers_officer', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='officer',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."date_joined" IS DISTINCT FROM (NEW."date_joined") OR OLD."email" IS DISTINCT FROM (NEW."email") OR OLD."first_name" IS DISTINCT FROM (NEW."first_name") OR OLD."full_name" IS DISTINCT FROM (NEW."full_name") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."is_active" IS DISTINCT FROM (NEW."is_active") OR OLD."is_full_time" IS DISTINCT FROM (NEW."is_full_time") OR OLD."is_staff" IS DISTINCT FROM (NEW."is_staff") OR OLD."is_superuser" IS DISTINCT FROM (NEW."is_superuser") OR OLD."language" IS DISTINCT FROM (NEW."language") OR OLD."last_name" IS DISTINCT FROM (NEW."last_name") OR OLD."must_change_password" IS DISTINCT FROM (NEW."must_change_password") OR OLD."phone" IS DISTINCT FROM (NEW."phone") OR OLD."role" IS DISTINCT FROM (NEW."role") OR OLD."title" IS DISTINCT FROM (NEW."title") OR OLD."unit_id" IS DISTINCT FROM (NEW."unit_id") OR OLD."username" IS DISTINCT FROM (NEW."username"))', func='INSERT INTO "officers_officerevent" ("date_joined", "email", "first_name", "full_name", "id", "is_active", "is_full_time", "is_staff", "is_superuser", "language", "last_name", "must_change_password", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "phone", "role", "title", "unit_id", "username") VALUES (NEW."date_joined", NEW."email", NEW."first_name", NEW."full_name", NEW."id", NEW."is_active", NEW."is_full_time", NEW."is_staff", NEW."is_superuser", NEW."language", NEW."last_name", NEW."must_change_password", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."phone", NEW."role", NEW."title", NEW."unit_id", NEW."username"); RETURN NULL;', hash='4ec04ca74ca8d61f21e8412885c38a2c53bafd41', operation='UPDATE', pgid='pgtrigger_update_update_48cb0', table='officers_officer', when='AFTER')),
        ),
    ]
