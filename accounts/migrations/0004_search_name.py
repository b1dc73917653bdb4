from django.db import migrations, models

from accounts.folding import search_name


def fill_search_names(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    people = User.objects.only("username", "first_name", "last_name").order_by("pk")
    batch = []
    for person in people.iterator(chunk_size=1000):
        person.search_name = search_name(person.username, person.first_name, person.last_name)
        batch.append(person)
        if len(batch) == 1000:
            User.objects.bulk_update(batch, ["search_name"])
            batch = []
    User.objects.bulk_update(batch, ["search_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_bio_null"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="search_name",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill_search_names, migrations.RunPython.noop, elidable=True),
    ]
