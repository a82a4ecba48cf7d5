"""One decision in plain words: what was checked, what blocked, with the local times."""

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils.formats import date_format

from compliance.evidence import CapEvidence, LitigatorEvidence, RndEvidence, WindowEvidence, evidence_read
from compliance.models import DecisionRecord
from core.call_history import WINDOW
from core.words import datetime_text, day_text

WINDOW_HOURS = int(WINDOW.total_seconds() // 3600)  # the caps' rolling window, in words

REASON_TEXT = {
    "invalid_number": "The number is not a valid, dialable phone number.",
    "consent_missing": "There is no consent of the kind this call needs.",
    "consent_revoked": "The person revoked the consent this call needs (an opt-out).",
    "consent_expired": "The consent this call needs has expired.",
    "dnc_internal": "The number is on the company's do-not-call list.",
    "dnc_national": "The number is on the National Do-Not-Call Registry and no exemption applies.",
    "dnc_state": "The number is on a state do-not-call list and no exemption applies.",
    "dnc_data_stale": "The registry data for the number's area code is too old (or was never synced).",
    "reassigned_number": "The number was reported reassigned after the consent was given.",
    "rnd_unverified": "This call needs a fresh “no” from the Reassigned Numbers Database and there is none.",
    "litigator_listed": "The number is on a litigator list and the campaign blocks such numbers.",
    "timezone_unknown": "The callee's time zone cannot be determined.",
    "outside_calling_hours": "It is outside the calling window in at least one of the callee's possible time zones.",
    "restricted_day": "A candidate state bans this call today (Sunday or a legal holiday).",
    "frequency_cap": f"The number has reached its attempt cap for the last {WINDOW_HOURS} hours.",
    "customer_erased": "The number belongs to an erased customer (kept as a suppression hash).",
    "campaign_inactive": "The campaign is not active, or outside its dates.",
}

NEED_TEXT = {
    "written_marketing": "prior express written consent to marketing calls",
    "express": "prior express consent (any purpose)",
    None: "no consent (a manual or informational call)",
}


@dataclass
class Explanation:
    verdict: str
    blocked_by: list[str] = field(default_factory=list)
    call: str = ""  # the call: purpose, dialing mode, the campaign's subject
    consent: str = ""  # the consent needed, and the consents used
    exemption: str | None = None  # the registry exemption, for marketing calls
    rnd: str | None = None  # the Reassigned Numbers Database answer the call relied on
    litigator: str | None = None  # the litigator list under the campaign's policy
    attempts: str | None = None  # calls to the number in the 24 hours before, as the caps count them
    ruleset: str = ""  # the rule set's version and the instant decided for
    local_times: list[tuple[str, str]] = field(default_factory=list)  # (zone, the callee's local time)
    windows: list[WindowEvidence] = field(default_factory=list)
    registry: list[dict] = field(default_factory=list)
    states: list[str] = field(default_factory=list)

    @property
    def checks(self) -> list[str]:
        """Every check in plain words, in order, for the decision page."""
        return [
            line
            for line in (
                self.call,
                self.consent,
                self.exemption,
                self.rnd,
                self.litigator,
                self.attempts,
                self.ruleset,
            )
            if line
        ]


def zoned_text(instant: datetime, zone: str) -> str:
    """An instant in the callee's zone, in the site's date format with the
    weekday first (day rules) and the zone named: "Thu, Dec 3, 2026 10:00 CST
    (America/Chicago)". Formatted here: a template's date filter would turn
    it into the viewer's zone. ValueError for a zone that is not a real one."""
    try:
        local = instant.astimezone(ZoneInfo(zone))
    except (KeyError, TypeError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"not a time zone: {zone!r}") from exc
    text = _with_weekday(local)
    return text if date_format(local, "T") == zone else f"{text} ({zone})"


def _with_weekday(local: datetime) -> str:
    return f"{date_format(local, 'D')}, {date_format(local, 'DATETIME_FORMAT')}"


def _viewer_text(value: str | datetime | None) -> str | None:
    """A logged instant in the viewer's zone (the site's format), or None."""
    if not value:
        return None
    return datetime_text(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _age_text(seconds: int | None) -> str:
    """How old registry data was, in words a reader compares with a maximum in days."""
    if seconds is None:
        return "unknown"
    if seconds < 3600:
        return "under an hour"
    if seconds < 48 * 3600:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{seconds / 86400:.1f} days"


def _attempts_text(facts: dict, subject: str, caps: list[CapEvidence]) -> str | None:
    """What the caps count, said so that a list of the number's recent calls
    (any subject, any campaign) cannot read as contradicting it: the calls
    on this campaign's subject in every campaign (the states' caps), and the
    calls in this campaign (its own cap)."""
    on_subject = facts.get("attempts_24h_same_subject")
    if on_subject is None:
        return None
    in_campaign = facts.get("attempts_24h_campaign", 0)
    state_caps = [
        f"{cap['jurisdiction']} allows {cap['cap']}" for cap in caps if cap["jurisdiction"] != "campaign"
    ]
    campaign_caps = [f"it allows {cap['cap']}" for cap in caps if cap["jurisdiction"] == "campaign"]
    return (
        f"Calls to this number in the {WINDOW_HOURS} hours before: {on_subject} on the campaign subject “{subject}” "
        f"in any campaign{' (' + '; '.join(state_caps) + ')' if state_caps else ''}, "
        f"{in_campaign} in this campaign{' (' + campaign_caps[0] + ')' if campaign_caps else ''}."
    )


RND_NEED_TEXT = {
    "consent": "an autodialed or prerecorded call relying on consent (the safe harbor, 47 CFR 64.1200(m))",
    "maine": "a marketing call with Maine among the callee's states (10 M.R.S.A. §1499-B)",
}
RND_ANSWER_TEXT = {"yes": "“yes” (disconnected since)", "no": "“no”", "no_data": "“no data”"}


def rnd_text(rnd: RndEvidence) -> str:
    """The RND query the call relied on, or that there was none, in words."""
    need = RND_NEED_TEXT.get(rnd["needed"], rnd["needed"])
    day = day_text(date.fromisoformat(rnd["date_sent"])) if rnd["date_sent"] else None
    if day is None:
        found = "there is no date to ask the RND with"
    elif rnd["answer"] is None:
        found = f"the RND was never asked about {day}"
    else:
        found = (
            f"query #{rnd['query_id']} for {day} ({rnd['date_kind']} date) answered "
            f"{RND_ANSWER_TEXT.get(rnd['answer'], rnd['answer'])} on {_viewer_text(rnd['queried_at'])} "
            f"via {rnd['provider']}"
        )
        if rnd["answer"] == "no":  # only a "no" goes stale: a "yes" or "no data" stays what it was
            found += f", {'fresh' if rnd['fresh'] else 'not fresh'} (fresh for {rnd['fresh_hours']} hours)"
    harbor = "the safe harbor holds" if rnd["safe_harbor"] else "no safe harbor"
    outcome = (
        f"blocks ({rnd['blocks']})"
        if rnd["blocks"]
        else f"allowed by the company's RND policy “{rnd['policy']}”"
    )
    if rnd["fresh"]:
        outcome = "allowed"
    return f"Reassigned Numbers Database, for {need}: {found}; {harbor}; {outcome}."


def litigator_text(litigator: LitigatorEvidence) -> str:
    """The litigator list under the campaign's policy, in words."""
    listed = {True: "listed", False: "not listed", None: "no litigator data for the area code"}[
        litigator["listed"]
    ]
    synced = _viewer_text(litigator["synced_at"])
    line = f"Litigator list: {listed}" + (f" (synced {synced})" if synced else "")
    action = {
        "block": "the campaign blocks listed numbers",
        "flag": "the campaign flags listed numbers for review",
        "ignore": "the campaign ignores the list",
    }.get(litigator["policy"], litigator["policy"])
    return f"{line}; {action}" + (
        "; flagged for a compliance officer's review." if litigator["flagged"] else "."
    )


def decision_explain(*, record: DecisionRecord) -> Explanation:
    evidence = evidence_read(record.evidence)
    facts = record.facts or {}
    context = facts.get("context") or {}
    explanation = Explanation(
        verdict="Allowed: every rule allowed this call." if record.allowed else "Blocked.",
        blocked_by=[REASON_TEXT.get(code, code) for code in record.reasons],
        states=list(facts.get("candidate_states") or []),
    )
    for zone in evidence["zones"]:
        local = datetime.fromisoformat(zone["local_time"])
        try:
            explanation.local_times.append((zone["zone"], zoned_text(local, zone["zone"])))
        except ValueError:  # a zone this server's tz database lacks: its offset as logged
            explanation.local_times.append((zone["zone"], _with_weekday(local)))
    explanation.call = (
        f"The call: {context.get('purpose', '?')} purpose, {context.get('dialing_mode', '?')} dialing, "
        f"campaign subject “{context.get('subject', '')}”."
    )
    consent = evidence["consent"]
    needed = NEED_TEXT.get(consent.get("needed"), consent.get("needed"))
    ids = consent.get("ids") or []
    explanation.consent = f"Consent needed: {needed}." + (
        f" Consent used: #{', #'.join(str(i) for i in ids)}." if ids else ""
    )
    if "exemption" in evidence:
        explanation.exemption = "Registry exemption: " + {
            "written_consent": "written marketing consent.",
            "ebr": "an established business relationship.",
        }.get(evidence["exemption"] or "", "none, so the registries decide.")
    for entry in evidence.get("registry", []):
        age = entry.get("age_seconds")
        explanation.registry.append(
            {
                "source": entry["source"],
                "listed": {True: "listed", False: "not listed", None: "no data"}[entry.get("listed")],
                "synced_at": _viewer_text(entry.get("synced_at")) or "never",
                "age": _age_text(age),
                "max_age": entry.get("max_age_days"),
                "stale": entry.get("stale"),
                "sync_id": entry.get("sync_id"),
            }
        )
    if "rnd" in evidence:
        explanation.rnd = rnd_text(evidence["rnd"])
    elif evidence["evidence_version"] >= 2 and "litigator" in evidence:  # decided knowing the RND
        explanation.rnd = (
            "Reassigned Numbers Database: no query was relied on; none is needed for this call "
            "(not an autodialed or prerecorded call relying on consent, nor a marketing call to Maine)."
        )
    if "litigator" in evidence:
        explanation.litigator = litigator_text(evidence["litigator"])
    explanation.windows = evidence.get("windows", [])
    explanation.attempts = _attempts_text(facts, context.get("subject", ""), evidence.get("caps", []))
    explanation.ruleset = (
        f"Rule set version {record.ruleset_version}; decided for {_viewer_text(record.decided_at)}."
    )
    return explanation
