"""The triggers that keep the cockpit's daily summary, and the summary of the existing rows.

The trigger SQL is built by promo.dashboard.summary (one definition for the triggers, the
rebuild and the reconciliation): a change to its rules needs a new migration that runs the
install again (CREATE OR REPLACE) and rebuilds the summary.
"""

from django.db import migrations


def _install(apps, schema_editor):
    from promo.dashboard.summary import trigger_sql

    schema_editor.execute(trigger_sql()[0])


def _remove(apps, schema_editor):
    from promo.dashboard.summary import trigger_sql

    schema_editor.execute(trigger_sql()[1])


def _backfill(apps, schema_editor):
    from promo.dashboard.summary import rebuild

    # The daily table only: the visiting investors' and arrived FDI's tables come in 0004.
    rebuild(sets=False)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0002_daily_unit_figure"),
        ("leads", "0016_search_text"),
        ("projects", "0008_search_text"),
    ]

    operations = [
        migrations.RunPython(_install, _remove),
        migrations.RunPython(_backfill, migrations.RunPython.noop),
    ]
