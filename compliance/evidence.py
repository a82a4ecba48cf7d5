"""The evidence of a decision: what `compliance.policy.decide` used, as it
stores it in the decision log (`DecisionRecord.evidence`, JSON).

`decide` builds it (the only writer); the decision page, the proof of call,
the reports and the agent's call card read it through `evidence_read`, which
gives every row, old ones included, as an `Evidence`. The row's hash chain
covers the stored JSON, so its shape changes only with a new
`EVIDENCE_VERSION` (a reader then handles both).

Versions:
- 1: the shape below without `rnd` and `litigator`. Rows logged before the
  field existed carry no `evidence_version` and read as 1.
- 2: adds `rnd` and `litigator` (issue 18). A reader reads both: the keys
  are optional.

Keys (every key below is documented; a reader, SQL included, reads no other):

- `evidence_version`: int, this shape's version.
- `ruleset_version`: the rule set's version hash; `at`: the call's instant
  (ISO 8601, UTC).
- `zones`: [{`zone`: IANA name, `local_time`: ISO 8601 in that zone}], one
  per known candidate zone. SQL reads `zone` and `local_time` (its hour is
  characters 12-13).
- `states`: candidate two-letter states. SQL reads the list.
- `consent`: {`needed`: "written_marketing" | "express" | null, `ids`: the
  usable consents of that kind, `exemption_ids`: written marketing consents
  exempting the call from the registries (marketing calls only)}.
- `reassigned_at`: when the number was reported reassigned, if it was.
- `dnc_cooldown`: {`jurisdiction`, `until`}: a state cooldown after a
  company DNC request that blocks the call.
- Marketing calls to a valid number (the registries decide): `ebr`
  {`basis`: "purchase" | "inquiry" | null, `purchase`/`inquiry`: {`at`,
  `until`, `void`: "expired" | "dnc_request" | "reassigned" if void}};
  `exemption`: "written_consent" | "ebr" | null; `registry`: [{`source`: a
  source key (`compliance.registry.sources`), `max_age_days`: the rule set's
  limit or null, `listed`: true | false | null (no data), `sync_id`,
  `synced_at`, `age_seconds`, `stale`}].
- `caps`: [{`jurisdiction`: a state or "campaign", `cap`, `attempts`}].
- `windows`: [{`jurisdiction`: "US", a state or "campaign", `zone`,
  `window`: "HH:MM-HH:MM", "closed", "holiday" or null (no federal rule),
  `citation` (rules only), `blocks`: a reason code or null}], one per rule
  and candidate zone; present when a local time is known. SQL reads
  `jurisdiction`, `window` and `zone`.
- `campaign_window`: the campaign's own window, "HH:MM-HH:MM", if it has one.
- `rnd` (2): the Reassigned Numbers Database answer the call relied on, when
  one matters: {`needed`: "consent" (an autodialed or prerecorded call
  relying on consent: the safe harbor, 47 CFR 64.1200(m)) | "maine" (a
  marketing call with Maine among the candidate states, 10 M.R.S.A.
  §1499-B), `date_sent`: "YYYY-MM-DD" | null (no date to ask with),
  `date_kind`: "consent" | "contact" | null, `consent_id`, `query_id`,
  `answer`: "yes" | "no" | "no_data" | null (never asked), `queried_at`,
  `provider`, `fresh_hours`: the rule set's freshness, `fresh`: a "no" still
  fresh at the call, `safe_harbor`: the call has the safe harbor, `policy`:
  the company's RND policy ("flag" | "block"), `blocks`: a reason code or
  null}.
- `litigator` (2): {`policy`: the campaign's "block" | "flag" | "ignore",
  `listed`: true | false | null (no data for the area code), `sync_id`,
  `synced_at`, `flagged`: the call goes ahead and the number goes to the
  review queue}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast

EVIDENCE_VERSION = 2
EVIDENCE_VERSIONS = (1, 2)  # what evidence_read reads
# What SQL over the stored JSON may read (campaigns/reports.py): top-level key -> keys of its items.
SQL_FIELDS: dict[str, tuple[str, ...]] = {
    "zones": ("zone", "local_time"),
    "windows": ("jurisdiction", "window", "zone"),
    "states": (),
}


class ZoneEvidence(TypedDict):
    zone: str
    local_time: str


class ConsentEvidence(TypedDict):
    needed: str | None
    ids: list[int]
    exemption_ids: NotRequired[list[int]]


class CooldownEvidence(TypedDict):
    jurisdiction: str
    until: str


class EbrEventEvidence(TypedDict):
    at: str
    until: str
    void: NotRequired[str]


class EbrEvidence(TypedDict):
    basis: str | None
    purchase: NotRequired[EbrEventEvidence]
    inquiry: NotRequired[EbrEventEvidence]


class RegistryEvidence(TypedDict):
    source: str
    max_age_days: int | None
    listed: bool | None
    sync_id: int | None
    synced_at: str | None
    age_seconds: int | None
    stale: bool


class CapEvidence(TypedDict):
    jurisdiction: str
    cap: int
    attempts: int


class WindowEvidence(TypedDict):
    jurisdiction: str
    zone: str
    window: str | None
    citation: NotRequired[str]
    blocks: str | None


class RndEvidence(TypedDict):
    needed: str
    date_sent: str | None
    date_kind: str | None
    consent_id: int | None
    query_id: int | None
    answer: str | None
    queried_at: str | None
    provider: str | None
    fresh_hours: int | None
    fresh: bool
    safe_harbor: bool
    policy: str
    blocks: str | None


class LitigatorEvidence(TypedDict):
    policy: str
    listed: bool | None
    sync_id: int | None
    synced_at: str | None
    flagged: bool


class Evidence(TypedDict):
    evidence_version: int
    ruleset_version: str
    at: str
    zones: list[ZoneEvidence]
    states: list[str]
    consent: ConsentEvidence
    reassigned_at: NotRequired[str]
    dnc_cooldown: NotRequired[CooldownEvidence]
    ebr: NotRequired[EbrEvidence]
    exemption: NotRequired[str | None]
    registry: NotRequired[list[RegistryEvidence]]
    caps: NotRequired[list[CapEvidence]]
    windows: NotRequired[list[WindowEvidence]]
    campaign_window: NotRequired[str]
    rnd: NotRequired[RndEvidence]
    litigator: NotRequired[LitigatorEvidence]


def evidence_read(data: Mapping[str, Any] | None) -> Evidence:
    """A stored decision's evidence as an `Evidence`: a row logged before
    `evidence_version` existed reads as version 1; the lists a reader walks
    are there even on a row that lacks them. ValueError for a version this
    code does not know (written by newer code)."""
    evidence = dict(data or {})
    version = evidence.setdefault("evidence_version", 1)
    if version not in EVIDENCE_VERSIONS:
        raise ValueError(f"evidence version {version!r} is not one this code reads {EVIDENCE_VERSIONS}")
    evidence.setdefault("zones", [])
    evidence.setdefault("states", [])
    evidence.setdefault("consent", {"needed": None, "ids": []})
    return cast(Evidence, evidence)
