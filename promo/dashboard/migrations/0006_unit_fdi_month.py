# The arrived FDI summed per unit and month for the cockpit (decision 0023), kept by a
# trigger on the project-month rows and filled from them.

from datetime import date

import django.db.models.deletion
from django.db import migrations, models


def _install(apps, schema_editor):
    from promo.dashboard.summary_sets import rebuild_unit_fdi, unit_fdi_trigger_sql

    schema_editor.execute(unit_fdi_trigger_sql()[0])
    with schema_editor.connection.cursor() as cursor:
        rebuild_unit_fdi(cursor, date(1, 1, 1), date(9999, 12, 31))


def _remove(apps, schema_editor):
    from promo.dashboard.summary_sets import unit_fdi_trigger_sql

    schema_editor.execute(unit_fdi_trigger_sql()[1])


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0005_unit_first_summary_indexes"),
        ("officers", "0012_remove_officer_is_security_admin"),
    ]

    operations = [
        migrations.CreateModel(
            name="UnitFdiMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="月份")),
                (
                    "growth",
                    models.DecimalField(
                        decimal_places=2, max_digits=18, verbose_name="到账外资增加(万美元)"
                    ),
                ),
                ("projects", models.IntegerField(default=0, verbose_name="项目月数")),
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
                "verbose_name": "驾驶舱到账外资单位月汇总",
                "verbose_name_plural": "驾驶舱到账外资单位月汇总",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "unit"), name="dashboard_unit_fdi_once"
                    )
                ],
            },
        ),
        migrations.RunPython(_install, _remove),
    ]
