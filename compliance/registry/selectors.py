"""Registry reads for the decision's fact gathering and the pre-launch scrub:
one query each, set-based, never a query per number.

Numbers are the 10-digit NANP number as an integer (`3055550123`); sources
are named by their key (`"national"`, `"state:FL"`).
"""

import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Greatest

from compliance.registry.formats import AREA_CODE_DIVISOR
from compliance.registry.models import (
    AreaCodeSync,
    RegistryNumber,
    RegistrySource,
    RegistryUpload,
    ShrinkHold,
    SyncRun,
)
from compliance.registry.sources import source_key_of, source_kind_parse
from core.lookups import AnyOf

_NANP_E164 = re.compile(r"\+1([2-9]\d{2}[2-9]\d{6})")


def e164_to_registry_int(e164: str) -> int | None:
    """`+13055550123` -> 3055550123; None for anything but a +1 NANP number
    whose area code and exchange do not start with 0 or 1."""
    match = _NANP_E164.fullmatch(e164 or "")
    return int(match[1]) if match else None


def registry_area_code(number: int) -> int:
    return number // AREA_CODE_DIVISOR


def registry_listings(*, numbers: Collection[int]) -> dict[int, set[str]]:
    """For each number listed by any source, the keys of the sources listing
    it (numbers listed nowhere are absent). One query: an index probe per
    number and source partition."""
    numbers = {int(number) for number in numbers}
    if not numbers:
        return {}
    listings: dict[int, set[str]] = defaultdict(set)
    rows = RegistryNumber.objects.filter(AnyOf(F("number"), numbers)).values_list(
        "number", "source__kind", "source__state"
    )
    for number, kind, state in rows:
        listings[number].add(registry_source_key(kind, state))
    return dict(listings)


def registry_freshness(*, area_codes: Collection[int]) -> dict[tuple[str, int], tuple[datetime, int]]:
    """(source key, area code) -> (synced_at, id of the sync run that synced
    it) for every source that has synced these area codes; a pair absent
    was never synced. One query."""
    if not area_codes:
        return {}
    rows = AreaCodeSync.objects.filter(area_code__in={int(code) for code in area_codes}).values_list(
        "source__kind", "source__state", "area_code", "synced_at", "sync_run_id"
    )
    return {
        (registry_source_key(kind, state), area_code): (synced_at, run_id)
        for kind, state, area_code, synced_at, run_id in rows
    }


def registry_source_key(kind: str, state: str) -> str:
    """A source's key (`RegistrySource.key`) from its kind and state columns."""
    return source_key_of(kind, state)


def _source_keys(sources: Collection[str]) -> Q:
    """RegistrySource rows named by these keys."""
    condition = Q(pk__in=[])
    for key in sources:
        kind, state = source_kind_parse(key)
        condition |= Q(kind=kind, state=state)
    return condition


# --- the scrub: sets of numbers against the registry ---------------------------


class RegistryInt(Func):
    """The registry integer of an E.164 text expression (`+13055550123` ->
    3055550123), NULL unless it is a +1 NANP number: lets a queryset of
    stored E.164 numbers be scrubbed in SQL, e.g.
    `registry_listed_filter(queryset=targets, number=RegistryInt("phone_number__number"))`."""

    arity = 1
    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        text, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            sql = rf"CASE WHEN {text} ~ '^\+1[2-9][0-9]{{2}}[2-9][0-9]{{6}}$' THEN substr({text}, 3)::bigint END"
        else:
            sql = (
                f"CASE WHEN {text} GLOB '+1[2-9][0-9][0-9][2-9][0-9][0-9][0-9][0-9][0-9][0-9]' "
                f"THEN CAST(substr({text}, 3) AS INTEGER) END"
            )
        return f"({sql})", (*params, *params)


def registry_listed_filter(
    *,
    queryset: QuerySet,
    number: str | Expression,
    sources: Collection[str] | None = None,
    listed: bool = True,
) -> QuerySet:
    """`queryset` narrowed to the rows whose number is listed (or, with
    `listed=False`, listed by none) of `sources` (keys; None: every source).

    `number` names the integer field holding the registry number, or is an
    expression giving it, such as `RegistryInt("phone_number__number")` over stored
    E.164 text. The result stays lazy and set-based: `.count()` is one query
    (`EXISTS` / `NOT EXISTS` against the registry's index), e.g. the
    pre-launch scrub of a campaign:

        targets = CampaignTarget.objects.filter(campaign=campaign)
        blocked = registry_listed_filter(
            queryset=targets, number=RegistryInt("phone_number__number"), sources=["national", "state:FL"]
        ).count()
    """
    expression = F(number) if isinstance(number, str) else number
    registry = RegistryNumber.objects.filter(number=OuterRef("_registry_number"))
    if sources is not None:
        registry = registry.filter(
            source__in=RegistrySource.objects.filter(_source_keys(sources)).values("pk")
        )
    annotated = queryset.alias(_registry_number=expression)
    condition = Exists(registry)
    return annotated.filter(condition if listed else ~condition)


def registry_listed_count(
    *, numbers_sql: str, params: Sequence = (), sources: Collection[str] | None = None
) -> int:
    """How many rows of a SQL query of numbers are listed by `sources` (keys;
    None: any source): for sets that are not a queryset, such as a temporary
    table. `numbers_sql` must select one integer column named `number`,
    e.g. `SELECT number FROM scrub_batch`. One query, `EXISTS` per row
    against the registry's index (a semi-join): 1M numbers against 10M
    registry numbers take about a second on PostgreSQL."""
    source_ids = None
    if sources is not None:
        source_ids = list(RegistrySource.objects.filter(_source_keys(sources)).values_list("pk", flat=True))
        if not source_ids:
            return 0
    query = (
        f"SELECT count(*) FROM ({numbers_sql}) AS candidate WHERE EXISTS "
        "(SELECT 1 FROM registry_number AS listed WHERE listed.number = candidate.number"
    )
    arguments = list(params)
    if source_ids is not None:
        query += " AND listed.source_id IN (" + ", ".join(["%s"] * len(source_ids)) + ")"
        arguments += source_ids
    with connection.cursor() as cursor:
        cursor.execute(query + ")", arguments)
        return cursor.fetchone()[0]


# --- sync runs ---------------------------------------------------------------


def sync_run_get_succeeded(*, source: RegistrySource, checksum: str) -> SyncRun | None:
    """The latest succeeded run of `source` that imported files with this
    SHA-256 (see `formats.registry_files_checksum`), or None: lets a sync
    skip a file it has already imported."""
    return (
        SyncRun.objects.filter(source=source, checksum=checksum, status=SyncRun.Status.SUCCEEDED)
        .order_by("-started_at", "-id")
        .first()
    )


def registry_upload_uploader(*, source: RegistrySource, checksum: str):
    """Who uploaded these bytes into the source's inbox in the admin (the
    latest upload), or None (a file dropped there by the FTC download)."""
    upload = (
        RegistryUpload.objects.filter(source=source, checksum=checksum)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
        .first()
    )
    return upload.uploaded_by if upload else None


def shrink_holds_approved_unapplied(*, source: RegistrySource) -> QuerySet:
    """Holds approved and not yet imported: the next inbox sync imports them."""
    return ShrinkHold.objects.filter(
        source=source, status=ShrinkHold.Status.APPROVED, applied_run__isnull=True, held_run__isnull=False
    ).order_by("created_at", "id")


def shrink_holds_pending() -> list[ShrinkHold]:
    """Full files held by the shrink guard, waiting for a second compliance officer."""
    return list(
        ShrinkHold.objects.filter(status=ShrinkHold.Status.PENDING)
        .select_related("source", "uploaded_by", "held_run")
        .order_by("created_at", "id")
    )


def area_code_removals(*, limit: int = 20) -> list[AreaCodeSync]:
    """The area codes whose last full file removed numbers, the largest
    share first (a short or broken file under the shrink guard's floor shows
    here): one query."""
    return list(
        AreaCodeSync.objects.filter(source__active=True, last_full_removed__gt=0)
        .select_related("source")
        .annotate(
            removed_share=ExpressionWrapper(
                F("last_full_removed") * 100 / Greatest(F("last_full_before"), 1), output_field=IntegerField()
            )
        )
        .order_by("-removed_share", "-last_full_removed", "source_id", "area_code")[:limit]
    )


def shrink_hold_pending_get(*, source: RegistrySource, checksum: str) -> ShrinkHold | None:
    """The pending hold of files with this SHA-256, if any (the latest)."""
    return (
        ShrinkHold.objects.filter(source=source, checksum=checksum, status=ShrinkHold.Status.PENDING)
        .order_by("-created_at", "-id")
        .first()
    )
