import django.db.models.functions.datetime
import django.utils.timezone
from django.db import migrations, models
from django.db.models import F

BATCH = 10_000


def rows_so_far_were_recorded_when_they_happened(apps, schema_editor):
    # Until now "new since the last training" was counted by the event's time; keeping that for the
    # rows already stored means the migration itself does not make every row look new. In batches of
    # primary keys, each committed on its own (the migration is not atomic): no table-wide lock.
    interactions = apps.get_model("catalog", "Interaction").objects
    last = interactions.order_by("-pk").values_list("pk", flat=True).first() or 0
    for start in range(0, last + 1, BATCH):
        interactions.filter(pk__gte=start, pk__lt=start + BATCH).update(recorded_at=F("timestamp"))


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="interaction",
            name="recorded_at",
            field=models.DateTimeField(
                db_default=django.db.models.functions.datetime.Now(),
                db_index=True,
                default=django.utils.timezone.now,
                editable=False,
            ),
        ),
        migrations.RunPython(rows_so_far_were_recorded_when_they_happened, migrations.RunPython.noop),
    ]
