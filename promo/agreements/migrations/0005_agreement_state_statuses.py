"""The agreements' states keep each commitment's and promise's status of their day, which the
agreements API list reads instead of computing them (decision 0004, "Stored statuses"). The
states stored before carry none: the list computes those agreements' statuses as before until
the nightly refresh (or a write) recomputes them, so no state needs to be made stale."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0004_agreement_state_filed"),
    ]

    operations = [
        migrations.AddField(
            model_name="agreementstate",
            name="term_statuses",
            field=models.JSONField(null=True),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="promise_statuses",
            field=models.JSONField(null=True),
        ),
    ]
