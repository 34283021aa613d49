"""The match keys of the people registered before PersonMatchKey existed."""

from django.db import migrations

CHUNK = 5_000  # people read at a time
BATCH = 50_000  # keys written at a time


def fill_match_keys(apps, schema_editor):
    from tadamun.matching.keys import PersonRecord, match_keys

    Person = apps.get_model("registry", "Person")
    PersonMatchKey = apps.get_model("registry", "PersonMatchKey")
    alias = schema_editor.connection.alias
    rows = []
    people = Person.objects.using(alias).order_by("pk").iterator(chunk_size=CHUNK)
    for person in people:
        rows.extend(
            PersonMatchKey(person_id=person.pk, key=key)
            for key in sorted(match_keys(PersonRecord.from_person(person)))
        )
        if len(rows) >= BATCH:
            PersonMatchKey.objects.using(alias).bulk_create(rows, batch_size=5_000)
            rows = []
    PersonMatchKey.objects.using(alias).bulk_create(rows, batch_size=5_000)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_match_keys_and_lookup_log"),
    ]

    operations = [
        migrations.RunPython(fill_match_keys, migrations.RunPython.noop, elidable=True),
    ]
