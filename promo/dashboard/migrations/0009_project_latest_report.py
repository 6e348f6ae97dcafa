# Each project's latest report month for the cockpit's count of reporting projects, kept by
# a trigger on the progress reports and filled from them.

import django.db.models.deletion
from django.db import migrations, models


def _install(apps, schema_editor):
    from promo.dashboard.summary_sets import latest_report_trigger_sql

    # The table is filled by 0012, once the column the trigger now also writes (first_month)
    # exists; 0012 reinstalls the trigger too, for a database that ran this migration before.
    schema_editor.execute(latest_report_trigger_sql()[0])


def _remove(apps, schema_editor):
    from promo.dashboard.summary_sets import latest_report_trigger_sql

    schema_editor.execute(latest_report_trigger_sql()[1])


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0008_visitor_year"),
        ("projects", "0011_unit_groundbreaking_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectLatestReport",
            fields=[
                (
                    "project",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="latest_report",
                        serialize=False,
                        to="projects.project",
                        verbose_name="项目",
                    ),
                ),
                ("month", models.DateField(verbose_name="最近填报月份")),
            ],
            options={
                "verbose_name": "项目最近填报月份",
                "verbose_name_plural": "项目最近填报月份",
            },
        ),
        migrations.RunPython(_install, _remove),
    ]
