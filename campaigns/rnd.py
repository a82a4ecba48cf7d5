"""What the RND must be asked for the campaigns' calls (compliance.rnd.due):
registered in CampaignsConfig.ready().

- numbers of active autodialed or prerecorded campaigns, once per consent the
  call may rely on (voice, live at the instant; written and of marketing
  purpose for a marketing campaign), with the consent's UTC date;
- numbers of active marketing campaigns of any dialing mode with Maine among
  their candidate states (area code 207, or a customer address in Maine:
  10 M.R.S.A. 1499-B needs an RND check before every sales call there),
  with the customer's latest contact (last purchase, inquiry, or the
  record's creation) when the campaign does not call on consent.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

from django.db.models import Q

from campaigns.models import Campaign, CampaignTarget
from compliance.jurisdictions import candidate_states
from compliance.rnd.answers import DATE_CONSENT, DATE_CONTACT
from compliance.rnd.due import RndDue
from consent.models import ConsentGrant

AUTOMATED = (Campaign.DialingMode.AUTODIALED, Campaign.DialingMode.PRERECORDED)
CALLABLE = (CampaignTarget.Status.QUEUED, CampaignTarget.Status.LEASED)
MAINE = "ME"


class CampaignRndDue:
    def rnd_due(self, *, campaign_id: int | None, at: datetime) -> Iterator[RndDue]:
        campaigns = Campaign.objects.filter(status=Campaign.Status.ACTIVE).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at)
        )
        if campaign_id is not None:
            campaigns = campaigns.filter(pk=campaign_id)
        automated = {c.pk: c.purpose for c in campaigns if c.dialing_mode in AUTOMATED}
        maine_manual = {
            c.pk
            for c in campaigns
            if c.purpose == Campaign.Purpose.MARKETING and c.dialing_mode not in AUTOMATED
        }
        if automated:
            yield from self._consents(automated, at)
        if maine_manual:
            yield from self._maine_contacts(maine_manual)

    def _consents(self, purposes: dict[int, str], at: datetime) -> Iterator[RndDue]:
        targets = CampaignTarget.objects.filter(
            campaign_id__in=purposes, status__in=CALLABLE, phone_number__number__isnull=False
        )
        by_phone: dict[int, set[str]] = {}
        for phone_id, campaign_id in targets.values_list("phone_number_id", "campaign_id"):
            by_phone.setdefault(phone_id, set()).add(purposes[campaign_id])
        consents = (
            ConsentGrant.objects.filter(
                phone_number_id__in=by_phone,
                channel="voice",
                revoked_at__isnull=True,
                granted_at__lte=at,
                phone_number__customer__erased_at__isnull=True,
            )
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
            .order_by("id")
            .values_list("id", "phone_number_id", "phone_number__number", "purpose", "written", "granted_at")
        )
        for consent_id, phone_id, number, purpose, written, granted_at in consents:
            needs = by_phone[phone_id]
            relied_on = "informational" in needs or (
                "marketing" in needs and purpose == "marketing" and written
            )
            if relied_on:
                yield RndDue(
                    number=str(number),
                    date_sent=granted_at.astimezone(UTC).date(),
                    date_kind=DATE_CONSENT,
                    consent_id=consent_id,
                )

    def _maine_contacts(self, campaign_ids: set[int]) -> Iterator[RndDue]:
        rows = (
            CampaignTarget.objects.filter(
                campaign_id__in=campaign_ids,
                status__in=CALLABLE,
                phone_number__number__isnull=False,
                phone_number__customer__erased_at__isnull=True,
            )
            .values_list(
                "phone_number__number",
                "phone_number__customer__state",
                "phone_number__customer__postal_code",
                "phone_number__customer__last_purchase_at",
                "phone_number__customer__last_inquiry_at",
                "phone_number__customer__created_at",
            )
            .distinct()
        )
        for number, state, postal_code, purchase, inquiry, created in rows:
            e164 = str(number)
            if MAINE not in candidate_states(e164=e164, state=state, postal_code=postal_code):
                continue
            latest = max(moment for moment in (purchase, inquiry, created) if moment is not None)
            yield RndDue(number=e164, date_sent=latest.astimezone(UTC).date(), date_kind=DATE_CONTACT)
