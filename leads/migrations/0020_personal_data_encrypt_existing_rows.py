"""Encrypt the contacts' and intermediaries' phone numbers, e-mail and WeChat ids written
before encryption (issue #16), in the tables and in their history tables, and fill the
blind indexes. The history triggers do not fire: the values do not change, only their form."""

import pgtrigger
from django.db import connection, migrations

from promo.core.field_keys import EncryptedTable, reencrypt_table

TABLES = [
    EncryptedTable(
        "leads_investorcontact",
        ("phone", "email", "wechat"),
        {
            "phone_index": ("phone", "phone"),
            "email_index": ("email", "email"),
            "wechat_index": ("wechat", "wechat"),
        },
    ),
    EncryptedTable("leads_investorcontactevent", ("phone", "email", "wechat"), pk="pgh_id"),
    EncryptedTable(
        "leads_intermediary",
        ("phone", "email"),
        {"phone_index": ("phone", "phone"), "email_index": ("email", "email")},
    ),
    EncryptedTable("leads_intermediaryevent", ("phone", "email"), pk="pgh_id"),
]


def encrypt(apps, schema_editor):
    with pgtrigger.ignore(
        "leads.InvestorContact:update_update", "leads.Intermediary:update_update"
    ), connection.cursor() as cursor:
        for spec in TABLES:
            reencrypt_table(cursor, spec, reindex=bool(spec.indexes))


class Migration(migrations.Migration):
    dependencies = [("leads", "0019_personal_data_encrypted_fields")]

    operations = [migrations.RunPython(encrypt, migrations.RunPython.noop, elidable=False)]
