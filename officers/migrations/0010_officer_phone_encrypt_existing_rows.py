"""Encrypt the officers' phone numbers written before encryption (issue #16), in the table
and in its history table, without firing the history triggers."""

import pgtrigger
from django.db import connection, migrations

from promo.core.field_keys import EncryptedTable, reencrypt_table

TABLES = [
    EncryptedTable("officers_officer", ("phone",)),
    EncryptedTable("officers_officerevent", ("phone",), pk="pgh_id"),
]


def encrypt(apps, schema_editor):
    with pgtrigger.ignore("officers.Officer:update_update"), connection.cursor() as cursor:
        for spec in TABLES:
            reencrypt_table(cursor, spec)


class Migration(migrations.Migration):
    dependencies = [("officers", "0009_officer_phone_encrypted")]

    operations = [migrations.RunPython(encrypt, migrations.RunPython.noop, elidable=False)]
