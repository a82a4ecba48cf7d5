"""Before the suite: are PostgreSQL and Redis there? Says how to start them if not."""

import os
import sys
from urllib.parse import urlsplit

import psycopg
import redis

HELP_POSTGRES = """\
PostgreSQL is not reachable at {where} ({error}).
The tests run on PostgreSQL. Start one, e.g.:
  sudo pg_ctlcluster $(ls /etc/postgresql) main start        # Debian/Ubuntu package
  docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16
or point the suite at yours: make test TEST_DATABASE_URL=postgres://user@host:5432/consentdesk"""

HELP_REDIS = """\
Redis is not reachable at {where} ({error}).
The Celery tests run a real worker against Redis. Start one, e.g.:
  redis-server --daemonize yes --port 6379 --save ''
  docker run -d -p 6379:6379 redis:7
or point the suite at yours: make test TEST_BROKER_URL=redis://host:6379/1"""


def main() -> int:
    # The owner's role when there are two (core.db_roles): the suite creates the app's.
    database_url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
    broker_url = os.environ["CELERY_BROKER_URL"]
    problems = []
    parts = urlsplit(database_url)
    try:
        # The maintenance database: the suite creates its own test database.
        psycopg.connect(parts._replace(path="/postgres").geturl(), connect_timeout=3).close()
    except psycopg.Error as exc:
        problems.append(HELP_POSTGRES.format(where=parts.netloc, error=str(exc).strip().splitlines()[0]))
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        problems.append(HELP_REDIS.format(where=urlsplit(broker_url).netloc, error=exc))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
