"""The access log's part of a customer's erasure (core.erasure hook).

The access log must go on saying who saw what and when (GDPR 5(2)
accountability), so its rows stay; a row whose target names one of the
person's numbers or email addresses gets, as its target, the keyed hash of
what it was ("hmac:" + HMAC-SHA256 with the suppression key, the hook
context's `keyed_hash`): whoever holds the clear value can still check what
was seen (a single number's target hashes to its suppression entry's hash),
nobody can read it back. The person's numbers and emails in a row's path
(a query string) are redacted.
"""

from urllib.parse import quote_plus, unquote_plus

from django.db.models import Q

from accounts.models import AccessLog
from core.erasure import ErasureContext

HASH_PREFIX = "hmac:"


def access_log_erase(context: ErasureContext) -> None:
    terms = context.search_terms()
    if not terms:
        return
    condition = Q()
    for term in terms:  # paths hold query strings: an email's "@" is "%40" there
        condition |= Q(target__icontains=term) | Q(path__icontains=term) | Q(path__icontains=quote_plus(term))
    for row in AccessLog.objects.filter(condition).only("pk", "target", "path"):
        changes = {}
        if context.mentions(row.target):
            changes["target"] = HASH_PREFIX + context.keyed_hash(row.target)
        if context.mentions(_unquoted(row.path)):
            changes["path"] = context.redact(_unquoted(row.path))[:300]
        if changes:
            AccessLog.objects.filter(pk=row.pk).update(**changes)


def _unquoted(path: str) -> str:
    return unquote_plus(path or "")
