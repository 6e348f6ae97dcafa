# The visiting investors' sets of days per year for the cockpit (decision 0024), kept by a
# trigger on the visitor day rows and filled from them.

from datetime import date

import django.db.models.deletion
import promo.dashboard.models
from django.db import migrations, models


def _install(apps, schema_editor):
    from promo.dashboard.summary_sets import rebuild_visitor_years, visitor_year_trigger_sql

    schema_editor.execute(visitor_year_trigger_sql()[0])
    with schema_editor.connection.cursor() as cursor:
        rebuild_visitor_years(cursor, date(1, 1, 1), date(9999, 12, 31))


def _remove(apps, schema_editor):
    from promo.dashboard.summary_sets import visitor_year_trigger_sql

    schema_editor.execute(visitor_year_trigger_sql()[1])


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0007_monthly_unit_figure'),
        ('leads', '0022_lead_unit_dates_index'),
        ('officers', '0012_remove_officer_is_security_admin'),
    ]

    operations = [
        migrations.CreateModel(
            name='VisitorYear',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.SmallIntegerField(verbose_name='年度')),
                ('days', promo.dashboard.models.YearDaysField(verbose_name='来访日期')),
                ('investor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='leads.investor', verbose_name='客商')),
                ('unit', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='officers.unit', verbose_name='单位')),
            ],
            options={
                'verbose_name': '驾驶舱来访客商年汇总',
                'verbose_name_plural': '驾驶舱来访客商年汇总',
                'indexes': [models.Index(fields=['unit', 'year'], name='dashboard_visitor_year_unit')],
                'constraints': [models.UniqueConstraint(fields=('year', 'unit', 'investor'), name='dashboard_visitor_year_once')],
            },
        ),
        migrations.RunPython(_install, _remove),
    ]
