from django.core.management.base import BaseCommand

from customers.places import ZIP_PLACES_FILE, zip_places_from_package, zip_places_write


class Command(BaseCommand):
    help = (
        "Compile customers/data/zip_places.tsv (ZIP -> time zone, state) from the installed zipcodes package."
    )

    def handle(self, *args, **options):
        count = zip_places_write(zip_places_from_package())
        self.stdout.write(f"{count} ZIP codes written to {ZIP_PLACES_FILE}.")
