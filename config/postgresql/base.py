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
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
