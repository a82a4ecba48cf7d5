"""/healthz: is this process able to serve? Checks the database and the broker.

It also says how the decision log's watch stands (`decision_log`: last seal,
last verify, an overdue verify, the schedule's drift): information for a
monitor, never a reason for a 503, since the process can serve all the same."""

import time
from typing import Any

from celery import current_app
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from compliance.watch import decision_log_watch


def _check_database() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> str:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict] = {}
    healthy = True
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        started = time.monotonic()
        try:
            status = check()
        except Exception as exc:  # any failure of a dependency is "unhealthy", never a 500
            healthy = False
            checks[name] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            checks[name] = {"status": status}
        checks[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks, "decision_log": _decision_log(checks)},
        status=200 if healthy else 503,
    )


def _decision_log(checks: dict[str, dict]) -> dict[str, Any] | None:
    if checks["database"]["status"] != "ok":
        return None  # nothing to read it from
    try:
        return decision_log_watch().as_json(detail=False)  # public: the audit page has the values
    except Exception as exc:  # a field of the answer, never a 500
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
