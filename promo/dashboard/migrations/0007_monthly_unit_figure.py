# The daily summary's month sums for the cockpit (decision 0023), kept by a trigger on the
# daily summary and filled from it.

from datetime import date

import django.db.models.deletion
from django.db import migrations, models


def _install(apps, schema_editor):
    from promo.dashboard.summary import month_trigger_sql, rebuild_months

    schema_editor.execute(month_trigger_sql()[0])
    with schema_editor.connection.cursor() as cursor:
        rebuild_months(cursor, date(1, 1, 1), date(9999, 12, 31))


def _remove(apps, schema_editor):
    from promo.dashboard.summary import month_trigger_sql

    schema_editor.execute(month_trigger_sql()[1])


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0006_unit_fdi_month"),
    ]

    operations = [
        migrations.CreateModel(
            name="MonthlyUnitFigure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="月份")),
                ("figure", models.CharField(max_length=32, verbose_name="指标")),
                ("count", models.IntegerField(default=0, verbose_name="数量")),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2, default=0, max_digits=18, verbose_name="金额(万元)"
                    ),
                ),
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
                "verbose_name": "驾驶舱月汇总",
                "verbose_name_plural": "驾驶舱月汇总",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "unit", "figure"), name="dashboard_monthly_figure_once"
                    )
                ],
            },
        ),
        migrations.RunPython(_install, _remove),
    ]
