# API tokens are identity, which lives in core (layer 1). The table stays where it is (core's model keeps
# db_table="api_apitoken"); only Django's idea of which app owns the model moves.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiToken")],
            database_operations=[],
        ),
    ]
