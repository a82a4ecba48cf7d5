"""One decision in plain words: what was checked, what blocked, with the local times."""

from dataclasses import dataclass, field
from datetime import datetime

from compliance.evidence import WindowEvidence, evidence_read
from compliance.models import DecisionRecord

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
    "timezone_unknown": "The callee's time zone cannot be determined.",
    "outside_calling_hours": "It is outside the calling window in at least one of the callee's possible time zones.",
    "restricted_day": "A candidate state bans this call today (Sunday or a legal holiday).",
    "frequency_cap": "The number has reached its attempt cap for the last 24 hours.",
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
    call: str = ""  # the call: purpose, dialing mode, subject, campaign
    consent: str = ""  # the consent needed, and the consents used
    exemption: str | None = None  # the registry exemption, for marketing calls
    attempts: str | None = None  # attempts in the 24 hours before
    ruleset: str = ""  # the rule set's version and the instant decided for
    local_times: list[tuple[str, str]] = field(default_factory=list)
    windows: list[WindowEvidence] = field(default_factory=list)
    registry: list[dict] = field(default_factory=list)
    states: list[str] = field(default_factory=list)

    @property
    def checks(self) -> list[str]:
        """Every check in plain words, in order, for the decision page."""
        return [
            line for line in (self.call, self.consent, self.exemption, self.attempts, self.ruleset) if line
        ]


def _when(value: str | None) -> str:
    if not value:
        return "never"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M %Z").strip()


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
        explanation.local_times.append((zone["zone"], local.strftime("%A %Y-%m-%d %H:%M")))
    explanation.call = (
        f"The call: {context.get('purpose', '?')} purpose, {context.get('dialing_mode', '?')} dialing, "
        f"subject “{context.get('subject', '')}”, campaign #{record.campaign_id or '-'}."
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
                "synced_at": _when(entry.get("synced_at")),
                "age": f"{age / 86400:.1f} days" if age is not None else "-",
                "max_age": entry.get("max_age_days"),
                "stale": entry.get("stale"),
                "sync_id": entry.get("sync_id"),
            }
        )
    explanation.windows = evidence.get("windows", [])
    attempts = facts.get("attempts_24h_same_subject")
    if attempts is not None:
        explanation.attempts = (
            f"Attempts in the 24 hours before: {attempts} on this subject across campaigns, "
            f"{facts.get('attempts_24h_campaign', 0)} in this campaign."
        )
    explanation.ruleset = (
        f"Rule set version {record.ruleset_version}; decided for {record.decided_at:%Y-%m-%d %H:%M:%S} UTC."
    )
    return explanation
