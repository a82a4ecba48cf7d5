from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.exceptions import NotAuthenticated

from config import schema  # noqa: F401  (its field extensions register on import, before any schema is built)
from config.health import healthz


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """/favicon.ico, which browsers ask for on their own: the SVG icon the pages link."""
    return HttpResponseRedirect(static("favicon.svg"))


class LoginFirst:
    """The API's documentation is a page read in a browser: a visitor who is
    not signed in is sent to the login page and back, as every other page
    does, instead of a bare 401. The schema and the API itself keep their
    JSON 401 and 403."""

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class SwaggerPage(LoginFirst, SpectacularSwaggerView):
    pass


class RedocPage(LoginFirst, SpectacularRedocView):
    pass


api_v1 = [
    path("", include("customers.api_urls")),
    path("", include("consent.api_urls")),
    path("", include("compliance.api_urls")),
    path("", include("campaigns.api_urls")),
    path("", include("helpdesk.api_urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerPage.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", RedocPage.as_view(url_name="schema"), name="api-redoc"),
    path("", include("accounts.urls")),
    path("", include("customers.urls")),
    path("", include("consent.urls")),
    path("", include("compliance.urls")),
    path("", include("campaigns.urls")),
    path("", include("helpdesk.urls")),
]

handler404 = "core.api.not_found"

admin.site.site_header = "ConsentDesk administration"
admin.site.site_title = "ConsentDesk"
admin.site.index_title = "Records and rules"
