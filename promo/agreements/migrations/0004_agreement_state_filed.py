"""The agreements' states carry where 协议履约分析 files them — the project's unit and 签约年度
— so today's analysis groups the states without joining the projects (decision 0020). The
triggers are installed again: they now also mark a state stale when its project changes unit
and when a sibling agreement is added, re-dated or deleted. Every state stored before is made
stale, so the next read or the nightly refresh fills the new columns."""

from django.db import migrations, models


def _install(apps, schema_editor):
    from promo.agreements.states import trigger_sql

    schema_editor.execute(trigger_sql(statuses=False)[0])


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0003_agreement_state_analysis"),
    ]

    operations = [
        migrations.AddField(
            model_name="agreementstate",
            name="project_unit",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="cohort",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        # Backwards the newer triggers stay: they only mark more states stale.
        migrations.RunPython(_install, migrations.RunPython.noop),
        migrations.RunSQL(
            "UPDATE agreements_agreementstate SET on_day = NULL, gen = gen + 1",
            migrations.RunSQL.noop,
        ),
    ]
