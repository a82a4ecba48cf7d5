from django.core.management.base import BaseCommand, CommandError

from compliance.rnd.adapters import ResultFileError, RndNotConfigured, adapter_configured
from compliance.rnd.due import RndDueProviderMissing
from compliance.rnd.services import rnd_query_due


class Command(BaseCommand):
    help = (
        "Send the RND queries that are due (numbers of active consent-based autodialed or prerecorded "
        "campaigns and of active Maine marketing campaigns without a fresh answer) through the "
        "configured adapter (CONSENTDESK_RND_ADAPTER), in batches of at most 1,000."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, metavar="ID", help="Only this campaign's numbers.")

    def handle(self, *args, campaign: int | None, **options):
        try:
            run = rnd_query_due(adapter=adapter_configured(), campaign_id=campaign)
        except (RndNotConfigured, RndDueProviderMissing, ResultFileError) as error:
            raise CommandError(str(error)) from None
        answers = ", ".join(f"{answer} {count}" for answer, count in sorted(run.answers.items())) or "none"
        self.stdout.write(
            f"{run.candidates} candidate(s), {run.due} due, {run.sent} sent in {run.batches} batch(es); "
            f"answers: {answers}"
        )
