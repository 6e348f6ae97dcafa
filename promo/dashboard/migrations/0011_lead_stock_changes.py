# The lead stocks (在手有效线索, 在谈项目) kept in the daily summary as the changes of each day
# (decision 0029): the leads' summary trigger replaced by one that also adds a lead's +1 on
# the day it entered and -1 on the day it left, and those rows filled from the leads (their
# months follow through the month trigger).

from django.db import migrations

STOCKS = ("leads_in_hand", "leads_negotiating")


def _install(apps, schema_editor):
    from promo.dashboard.summary import SUMMARY_TABLE, _stock_changes, trigger_sql

    install, remove = trigger_sql()
    schema_editor.execute(remove)
    schema_editor.execute(install)
    changes = " UNION ALL ".join(_stock_changes("leads_lead", 1, None))
    # Idempotent: a database migrated from scratch already has them (0003 rebuilds with the
    # rules of the code that runs it).
    schema_editor.execute(f"DELETE FROM {SUMMARY_TABLE} WHERE figure IN {STOCKS!r}")
    schema_editor.execute(
        f"INSERT INTO {SUMMARY_TABLE} (unit_id, day, figure, count, amount) "
        f"SELECT unit_id, day, figure, SUM(n), 0 FROM ({changes}) AS d "
        f"GROUP BY unit_id, day, figure HAVING SUM(n) <> 0"
    )


def _remove(apps, schema_editor):
    from promo.dashboard.summary import SUMMARY_TABLE

    schema_editor.execute(f"DELETE FROM {SUMMARY_TABLE} WHERE figure IN {STOCKS!r}")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0010_funnel_period_figure"),
    ]

    operations = [migrations.RunPython(_install, _remove)]
