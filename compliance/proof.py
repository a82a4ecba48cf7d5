"""Proof of a call: why one hand-off was allowed at that instant, from the
logged decision alone (its facts and evidence as they were, not as the data
is now): the consent used with its evidence, the registry data's age for the
area code, the local times and jurisdictions checked, the rule-set version,
the agent, the caller ID, and the decision's place in the hash chain.

Call attempts belong to the campaigns app; compliance reads them through the
calls-made provider campaigns registers (core.calls): it imports no campaign
model."""

from dataclasses import dataclass

from django.http import Http404

from compliance.decision_log import link_verifies
from compliance.evidence import evidence_read
from compliance.explain import Explanation, decision_explain
from compliance.models import DecisionRecord
from compliance.registry.models import SyncRun
from consent.models import ConsentGrant
from core.calls import calls_made_provider


@dataclass
class Proof:
    attempt: object  # campaigns.CallAttempt
    decision: DecisionRecord
    explanation: Explanation
    consents: list  # consent.ConsentGrant used, with their evidence
    sync_runs: list  # registry.SyncRun whose data was consulted
    chain_ok: bool | None  # None: not sealed yet


def attempt_proof(*, attempt_id: int) -> Proof:
    attempt = calls_made_provider().call_get(call_id=attempt_id)
    if attempt is None:
        raise Http404("No such call attempt.")
    decision = attempt.decision
    evidence = evidence_read(decision.evidence)
    consent = evidence["consent"]
    consent_ids = {*consent["ids"], *consent.get("exemption_ids", [])}
    consents = list(
        ConsentGrant.objects.filter(pk__in=consent_ids)
        .select_related("phone_number", "recorded_by")
        .order_by("pk")
    )
    run_ids = {entry["sync_id"] for entry in evidence.get("registry", []) if entry.get("sync_id")}
    sync_runs = list(SyncRun.objects.filter(pk__in=run_ids).select_related("source").order_by("pk"))
    link = decision.chain
    chain_ok = link_verifies(decision, link) if link else None
    return Proof(
        attempt=attempt,
        decision=decision,
        explanation=decision_explain(record=decision),
        consents=consents,
        sync_runs=sync_runs,
        chain_ok=chain_ok,
    )
