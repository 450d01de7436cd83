import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def rows_so_far_were_recorded_when_they_happened(apps, schema_editor):
    # Until now "new since the last training" was counted by the event's time; keeping that for the
    # rows already stored means the migration itself does not make every row look new.
    apps.get_model("catalog", "Interaction").objects.update(recorded_at=F("timestamp"))


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="interaction",
            name="recorded_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False),
        ),
        migrations.RunPython(rows_so_far_were_recorded_when_they_happened, migrations.RunPython.noop),
    ]
