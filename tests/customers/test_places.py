"""The ZIP table the engine reads (time zone and state of each ZIP) is the
zipcodes package's data, compiled; no process imports the package itself."""

import subprocess
import sys
from pathlib import Path

from customers.places import zip_places_from_package, zip_table

ROOT = Path(__file__).resolve().parents[2]


def test_the_compiled_zip_table_is_the_installed_packages_data():
    assert zip_table() == zip_places_from_package(), (
        "customers/data/zip_places.tsv is out of date: run `manage.py zip_places_build`"
    )
    assert zip_table()["84101"] == ("America/Denver", "UT")  # Salt Lake City
    assert zip_table()["96813"] == ("Pacific/Honolulu", "HI")


def test_the_engine_and_the_importer_do_not_load_the_zipcodes_package():
    code = (
        "import django, sys; django.setup(); "
        "import compliance.facts, compliance.jurisdictions, consent.importer, campaigns.scrub; "
        "from compliance.jurisdictions import zip_place; zip_place('10001'); "
        "print('zipcodes' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False", out.stderr
