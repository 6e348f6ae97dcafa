"""The agreements' states carry their share of 协议履约分析 (decision 0020); every state
stored before is made stale, so the next read or the nightly refresh fills the new columns.
A project's agreements are indexed with their ids, so its first one (the cohort) is read
from the index without a sort."""

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0002_agreement_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="agreementstate",
            name="capital_in",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="capital_judged",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="capital_target",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="intensity_agreements",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="intensity_amount",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="intensity_land",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="output_judged",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="output_met",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="produce_judged",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="produce_met",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="promises_due",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="promises_kept",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="start_judged",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="start_met",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="tax_per_mu_agreements",
            field=models.PositiveSmallIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="tax_per_mu_amount",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="agreementstate",
            name="tax_per_mu_land",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=2, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.RemoveIndex(model_name="agreement", name="agreements_agreement_project"),
        migrations.AddIndex(
            model_name="agreement",
            index=models.Index(
                fields=["project", "signed_on", "id"], name="agreements_agreement_first"
            ),
        ),
        migrations.RunSQL(
            "UPDATE agreements_agreementstate SET on_day = NULL, gen = gen + 1",
            migrations.RunSQL.noop,
        ),
    ]
