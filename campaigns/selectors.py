"""Reads of campaigns, and the call context a campaign hands the compliance engine."""

from campaigns.models import Campaign
from compliance.policy import CallContext


def campaign_call_context(*, campaign: Campaign) -> CallContext:
    return CallContext(
        purpose=campaign.purpose,
        dialing_mode=campaign.dialing_mode,
        subject=campaign.subject,
        channel="voice",
        campaign_id=campaign.pk,
        campaign_status=campaign.status,
        campaign_starts_at=campaign.starts_at,
        campaign_ends_at=campaign.ends_at,
        window_start=campaign.window_start,
        window_end=campaign.window_end,
        max_attempts_per_day=campaign.max_attempts_per_day,
    )
