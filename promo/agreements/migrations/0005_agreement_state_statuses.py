"""Beside each agreement's state, the statuses of its rows of the same day and generation,
which the agreements API list reads instead of computing them (decision 0004, "Stored
statuses"; decision 0020, "The rows' statuses"). The triggers are installed again: deleting
an agreement now removes these too. Nothing stored before has them: the list computes an
agreement's statuses until the next refresh stores them, so no state needs to be made stale."""

from django.db import migrations, models


def _install(apps, schema_editor):
    from promo.agreements.states import trigger_sql

    schema_editor.execute(trigger_sql()[0])


def _install_without_statuses(apps, schema_editor):
    from promo.agreements.states import trigger_sql

    schema_editor.execute(trigger_sql(statuses=False)[0])


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0004_agreement_state_filed"),
    ]

    operations = [
        migrations.CreateModel(
            name="AgreementStatuses",
            fields=[
                (
                    "agreement",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="statuses",
                        serialize=False,
                        to="agreements.agreement",
                    ),
                ),
                ("gen", models.PositiveIntegerField()),
                ("on_day", models.DateField()),
                ("terms", models.JSONField()),
                ("promises", models.JSONField()),
            ],
            options={
                "verbose_name": "履约事项状态",
                "verbose_name_plural": "履约事项状态",
                "default_permissions": (),
            },
        ),
        # Backwards: the delete trigger without the table, before the table goes.
        migrations.RunPython(_install, _install_without_statuses),
    ]
