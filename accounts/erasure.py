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

from django.db import connection
from django.db.models import Q

from accounts.models import AccessLog
from core.erasure import ErasureContext

HASH_PREFIX = "hmac:"


def access_log_erase(context: ErasureContext) -> None:
    terms = context.search_terms()
    if not terms:
        return
    # Paths hold query strings: an email's "@" is "%40" there.
    terms = tuple(sorted({*terms, *(quote_plus(term) for term in terms)}))
    condition = Q()
    for term in terms:
        condition |= Q(target__icontains=term) | Q(path__icontains=term)
    changed: list[tuple[int, str, str]] = []
    for row in AccessLog.objects.filter(condition).only("pk", "target", "path"):
        target, path = row.target, row.path
        if context.mentions(row.target):
            target = HASH_PREFIX + context.keyed_hash(row.target)
        if context.mentions(_unquoted(row.path)):
            path = context.redact(_unquoted(row.path))[:300]
        if (target, path) != (row.target, row.path):
            changed.append((row.pk, target, path))
    _redact(changed, terms)


def _redact(rows: list[tuple[int, str, str]], terms: tuple[str, ...]) -> None:
    """On PostgreSQL through the owner's door (migrations 0005, 0006): the
    app's role may not update the access log; the function changes only
    targets and paths, only towards erasure, and only in rows that hold one
    of the search terms."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        for pk, target, path in rows:
            AccessLog.objects.filter(pk=pk).update(target=target, path=path)
        return
    ids, targets, paths = (list(column) for column in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT accounts_access_log_redact(%s::bigint[], %s::text[], %s::text[], %s::text[])",
            [ids, targets, paths, list(terms)],
        )


def _unquoted(path: str) -> str:
    return unquote_plus(path or "")
