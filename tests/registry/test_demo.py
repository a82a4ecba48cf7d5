import pytest

from compliance.registry.demo import NATIONAL_AREA_CODES, registry_demo_seed
from compliance.registry.models import AreaCodeSync, RegistrySource, SyncRun
from compliance.registry.selectors import registry_listings

pytestmark = pytest.mark.django_db


def test_demo_seed_syncs_the_demo_area_codes_once(superuser):
    runs = registry_demo_seed(by=superuser)
    assert [run.source.key for run in runs] == ["national", "state:TX", "state:PA"]
    assert all(run.status == SyncRun.Status.SUCCEEDED for run in runs)
    national = RegistrySource.objects.get(kind="national")
    assert set(AreaCodeSync.objects.filter(source=national).values_list("area_code", flat=True)) == set(
        NATIONAL_AREA_CODES
    )
    listings = registry_listings(numbers=[5125550000, 5127200004, 5127200007, 3057990009, 3055550010])
    assert listings == {
        5125550000: {"national", "state:TX"},
        5127200004: {"national", "state:TX"},
        5127200007: {"national"},
        3057990009: {"national"},
    }
    assert registry_demo_seed(by=superuser) == []
    assert SyncRun.objects.count() == 3
