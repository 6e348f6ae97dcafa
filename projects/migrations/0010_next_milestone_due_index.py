"""The cockpit's most overdue milestones read in order of the next milestone's planned date
(``projects.models.next_milestone_due``) and stop after a screenful, in any scope, instead of
testing every project (province: 43 → 0.8 ms for one unit, 55 → 0.05 ms for the bureau)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0009_aftercare_service_visits"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                models.Case(
                    models.When(stage="signed", then=models.F("groundbreaking_planned")),
                    models.When(stage="groundbreaking", then=models.F("completed_planned")),
                    models.When(stage="completed", then=models.F("producing_planned")),
                    default=models.Value(None),
                    output_field=models.DateField(),
                ),
                models.F("id"),
                name="projects_project_next_due",
            ),
        ),
    ]
