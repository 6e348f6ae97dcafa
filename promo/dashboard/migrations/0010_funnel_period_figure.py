# The lead funnel of each calendar month, quarter and year per unit (decision 0028), kept by
# a statement trigger on the leads and filled from them; and the index on a lead's latest date
# that says whether a year to date may be read from its year.

import django.db.models.deletion
from django.db import migrations, models


def _install(apps, schema_editor):
    from promo.dashboard.summary_funnel import LATEST_DAY, rebuild, trigger_sql

    schema_editor.execute(
        f"CREATE INDEX leads_lead_funnel_latest_day ON leads_lead (({LATEST_DAY}))"
    )
    schema_editor.execute(trigger_sql()[0])
    with schema_editor.connection.cursor() as cursor:
        rebuild(cursor)


def _remove(apps, schema_editor):
    from promo.dashboard.summary_funnel import trigger_sql

    schema_editor.execute(trigger_sql()[1])
    schema_editor.execute("DROP INDEX IF EXISTS leads_lead_funnel_latest_day")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0009_project_latest_report"),
        ("officers", "0012_remove_officer_is_security_admin"),
        ("leads", "0022_lead_unit_dates_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="FunnelPeriodFigure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=8, verbose_name="期间类型")),
                ("start", models.DateField(verbose_name="期间起始日")),
                ("figure", models.CharField(max_length=24, verbose_name="指标")),
                ("days", models.IntegerField(default=0, verbose_name="天数")),
                ("count", models.IntegerField(default=0, verbose_name="数量")),
                (
                    "unit",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="officers.unit",
                        verbose_name="单位",
                    ),
                ),
            ],
            options={
                "verbose_name": "信息漏斗期间汇总",
                "verbose_name_plural": "信息漏斗期间汇总",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "start", "unit", "figure", "days"),
                        include=("count",),
                        name="dashboard_funnel_figure_once",
                    )
                ],
            },
        ),
        migrations.RunPython(_install, _remove),
    ]
