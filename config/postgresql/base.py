"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django asks `is_usable()` before a request's first
query on a kept connection, and the stock answer sends `SELECT 1`: one more
round trip on every request, the check and the hand-off included (issue 17).
A connection the server has ended (a restart, an idle timeout,
`pg_terminate_backend`) says so on its socket: the server's last message, or
the end of the stream, is waiting to be read. So the socket is polled, without
waiting; only when something is there does the server get the stock
`SELECT 1`, which reads it and answers for sure. A peer that vanished without
a word is seen by neither check before the next query fails, which then
closes the connection, as Django does on any error.

Timestamps are read by psycopg's compiled loader. Django registers a
subclass of psycopg's pure-Python `timestamptz` loader (to set the
configured zone on each value), which parses every timestamp in Python:
about 3.8 us a value against 0.3 us, and a hand-off reads dozens (issue
17). The session's zone is the configured one (Django sets it on
connecting), so when that zone is UTC the compiled loader gives the very
same values, `datetime.timezone.utc` as their zone; any other zone keeps
Django's loader.
"""

import select
from datetime import UTC

from django.db.backends.postgresql import base
from psycopg import adapters, pq
from psycopg.adapt import AdaptersMap

_TIMESTAMPTZ = adapters.types["timestamptz"].oid
_COMPILED = adapters.get_loader(_TIMESTAMPTZ, pq.Format.TEXT)  # psycopg_binary's, where installed


class UTCTimestampLoader:
    """Django's timestamptz loader as Django's backend sees it (a class whose
    `timezone` is the connection's), that makes psycopg's compiled loader."""

    format = pq.Format.TEXT
    timezone = UTC

    def __new__(cls, oid, context=None):
        return _COMPILED(oid, context)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        context = params.get("context")
        if (
            isinstance(context, AdaptersMap)
            and self.timezone is UTC
            and _COMPILED.__module__.startswith("psycopg_")  # the compiled one (psycopg_binary or psycopg_c)
        ):
            context.register_loader(_TIMESTAMPTZ, UTCTimestampLoader)
        return params

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.pgconn.status != pq.ConnStatus.OK:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()  # mid-transaction or failed: as Django always asked
        poller = select.poll()  # poll, not select: a descriptor above 1023 is fine
        try:
            poller.register(connection.fileno(), select.POLLIN)
            waiting = poller.poll(0)
        except (OSError, ValueError):
            return False
        return not waiting or super().is_usable()
