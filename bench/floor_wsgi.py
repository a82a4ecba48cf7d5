"""The stack's floor for the HTTP benchmarks: gunicorn serving the project's
settings (middleware, token auth, roles) with a URLconf of two views that do
none of the compliance work, so a benchmark can report its figures beside
what the same server, clients and machine reach with nothing to decide.

    gunicorn bench.floor_wsgi:application   (started by check_api_latency.py --floor)

- POST /floor/plain/: a plain Django view returning a fixed JSON body (the
  middleware still runs; no authentication, no query).
- POST /floor/check/: a DRF view with the check API's authentication,
  permission and serializer (the campaign lookup included), answering
  "allowed" without gathering facts, deciding or logging.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from campaigns.api import CheckSerializer, CheckView  # noqa: E402


@csrf_exempt
def plain(request):
    return JsonResponse({"allowed": True, "reasons": [], "evidence": {}})


class FloorCheckView(APIView):
    permission_classes = CheckView.permission_classes

    def post(self, request):
        CheckSerializer(data=request.data).is_valid(raise_exception=True)
        return Response({"allowed": True, "reasons": [], "evidence": {}})


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("floor/plain/", plain),
    path("floor/check/", FloorCheckView.as_view()),
    path("healthz", healthz),
]

settings.ROOT_URLCONF = __name__
application = get_wsgi_application()
