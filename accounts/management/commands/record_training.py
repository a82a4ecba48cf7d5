from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.roles import AGENTS
from accounts.services import training_current_until, training_record


class Command(BaseCommand):
    help = "Record a current compliance training acknowledgement for agents (dated now)."

    def add_arguments(self, parser):
        parser.add_argument(
            "usernames", nargs="+", metavar="USERNAME", help="agents who completed the training"
        )
        parser.add_argument("--by", help="username recorded as the one who recorded it")
        parser.add_argument("--note", default="", help="e.g. the course and its version")

    @transaction.atomic
    def handle(self, *args, usernames: list[str], by: str | None, note: str, **options):
        users = get_user_model().objects
        recorder = users.filter(username=by).first() if by else None
        if by and recorder is None:
            raise CommandError(f"No user '{by}'.")
        agents = {user.username: user for user in users.filter(username__in=usernames)}
        problems = [f"no user '{name}'" for name in usernames if name not in agents]
        problems += [
            f"'{name}' is not in {AGENTS}"
            for name, user in agents.items()
            if not user.groups.filter(name=AGENTS).exists()
        ]
        if problems:
            raise CommandError("Nothing recorded: " + "; ".join(problems) + ".")
        for name in usernames:
            agent = agents[name]
            training_record(agent=agent, by=recorder, note=note)
            until = training_current_until(agent=agent)
            self.stdout.write(f"{name}: training recorded, valid until {until:%Y-%m-%d}.")
