"""`migrate` as the schema's owner (DATABASE_OWNER_URL), then the app role's
grants (core.db_roles): a new table is the app's to use at once, a protected
one only to read and append to."""

from django.core.management.commands.migrate import Command as MigrateCommand

from core.db_roles import as_owner, grants_apply


class Command(MigrateCommand):
    help = MigrateCommand.help + " Runs as DATABASE_OWNER_URL's role when set, then grants the app's role."

    def handle(self, *args, **options):
        with as_owner(options["database"]):
            super().handle(*args, **options)
        grants_apply(options["database"])
