"""The litigator review queue (issue 18): a number on a litigator list,
called under a campaign whose policy is `flag`, waits for a compliance
officer, who signs it off or suppresses it; both are recorded with who and
why. Flagging never blocks or delays the call it comes from."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.registry.models import LitigatorListing, LitigatorReview, RegistrySource
from consent.models import OptOutVia
from consent.services import consent_revoke, number_hash
from core.erasure import ErasureContext
from core.history import history_save, history_user

ERASED = "(erased)"


def litigator_review_flag(
    *, number: str, synced_at: datetime | None, decision_id: int, at: datetime
) -> LitigatorReview | None:
    """Put `number` in the review queue, once: None when it already has a
    review (open, signed off or suppressed)."""
    digest = number_hash(number)
    if LitigatorReview.objects.filter(number_hash=digest).exists():
        return None
    source = RegistrySource.objects.filter(kind=RegistrySource.Kind.LITIGATOR).first()
    if source is None:  # the list was listing the number a moment ago
        return None
    review = LitigatorReview(
        number=number,
        number_hash=digest,
        source=source,
        listed_synced_at=synced_at,
        decision_id=decision_id,
        flagged_at=at,
    )
    try:
        with transaction.atomic():
            return history_save(review, by=None, reason="flagged: on a litigator list, campaign policy flag")
    except IntegrityError:
        if LitigatorReview.objects.filter(number_hash=digest).exists():
            return None  # flagged meanwhile by another call
        raise


@transaction.atomic
def litigator_review_decide(
    *, review: LitigatorReview, by: AbstractBaseUser | None, suppress: bool, reason: str
) -> LitigatorReview:
    """Sign off an open review, or suppress its number: it goes on the
    company's do-not-call list (the same opt-out as every channel's, so no
    later hand-off returns it). ValidationError, per field, when it may not
    be decided so."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: the reason is kept with the review."})
    review = LitigatorReview.objects.select_for_update().get(pk=review.pk)
    if review.status != LitigatorReview.Status.OPEN:
        raise ValidationError({"status": f"This review is already {review.get_status_display().lower()}."})
    if review.number == ERASED:
        raise ValidationError({"number": "The number was erased: there is nothing to call or suppress."})
    user = history_user(by)
    if suppress:
        consent_revoke(number=review.number, via=OptOutVia.ADMIN, by=user, note=f"litigator review: {reason}")
    review.status = LitigatorReview.Status.SUPPRESSED if suppress else LitigatorReview.Status.SIGNED_OFF
    review.decided_by, review.decided_at, review.reason = user, timezone.now(), reason
    return history_save(
        review, by=user, reason=("suppressed: " if suppress else "signed off: ") + reason[:80]
    )


def litigator_reviews_erase(context: ErasureContext) -> None:
    """Erasure: the person's numbers leave the reviews and their history, and
    what a provider said of them goes."""
    if not context.numbers:
        return
    LitigatorReview.objects.filter(number__in=context.numbers).update(number=ERASED)
    LitigatorReview.history.filter(number__in=context.numbers).update(number=ERASED)
    LitigatorListing.objects.filter(number_hash__in=[number_hash(n) for n in context.numbers]).delete()
