"""`flush` as the schema's owner (DATABASE_OWNER_URL): the app's role may not
empty the protected tables, nor may anything else it runs."""

from django.core.management.commands.flush import Command as FlushCommand

from core.db_roles import as_owner


class Command(FlushCommand):
    help = FlushCommand.help + " Runs as DATABASE_OWNER_URL's role when set."

    def handle(self, **options):
        with as_owner(options["database"]):
            super().handle(**options)
