"""The agreements' states added up per project unit and 签约年度 (decision 0026): the grains'
table, kept by statement triggers on the states and filled from them here; the states' day
indexed for the probe of whether every state is of today."""

from decimal import Decimal
from django.db import migrations, models


def _install(apps, schema_editor):
    from promo.agreements.states import grain_trigger_sql, rebuild_grain

    schema_editor.execute(grain_trigger_sql()[0])
    with schema_editor.connection.cursor() as cursor:
        rebuild_grain(cursor)


def _remove(apps, schema_editor):
    from promo.agreements.states import grain_trigger_sql

    schema_editor.execute(grain_trigger_sql()[1])


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0005_agreement_state_statuses'),
    ]

    operations = [
        migrations.CreateModel(
            name='AgreementStateGrain',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('project_unit', models.BigIntegerField()),
                ('cohort', models.PositiveSmallIntegerField()),
                ('states', models.IntegerField(default=0)),
                ('judged', models.IntegerField(default=0)),
                ('keeping', models.IntegerField(default=0)),
                ('breached', models.IntegerField(default=0)),
                ('clawback_due', models.IntegerField(default=0)),
                ('overdue_promises', models.BigIntegerField(default=0)),
                ('paid', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
                ('withheld', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
                ('clawed_back', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
                ('start_judged', models.BigIntegerField(default=0)),
                ('start_met', models.BigIntegerField(default=0)),
                ('produce_judged', models.BigIntegerField(default=0)),
                ('produce_met', models.BigIntegerField(default=0)),
                ('output_judged', models.BigIntegerField(default=0)),
                ('output_met', models.BigIntegerField(default=0)),
                ('capital_judged', models.BigIntegerField(default=0)),
                ('capital_target', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
                ('capital_in', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
                ('promises_due', models.BigIntegerField(default=0)),
                ('promises_kept', models.BigIntegerField(default=0)),
                ('intensity_agreements', models.BigIntegerField(default=0)),
                ('intensity_amount', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
                ('intensity_land', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
                ('tax_per_mu_agreements', models.BigIntegerField(default=0)),
                ('tax_per_mu_amount', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
                ('tax_per_mu_land', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=20)),
            ],
            options={
                'verbose_name': '协议履约状态汇总',
                'verbose_name_plural': '协议履约状态汇总',
                'default_permissions': (),
            },
        ),
        migrations.AddIndex(
            model_name='agreementstate',
            index=models.Index(fields=['on_day'], name='agreements_state_day'),
        ),
        migrations.AddConstraint(
            model_name='agreementstategrain',
            constraint=models.UniqueConstraint(fields=('project_unit', 'cohort'), name='agreements_state_grain_once'),
        ),
        # After the table: the triggers, then the grains filled from the states.
        migrations.RunPython(_install, _remove),
    ]
