"""Request plumbing of the project as a whole."""

from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that a write to an API URL without its trailing
    slash is not redirected: a redirect drops the body (and with DEBUG on,
    Django raises instead), so the API's JSON 404 answers, naming the URL
    with the slash (core.api.not_found)."""

    def should_redirect_with_slash(self, request) -> bool:
        if request.path_info.startswith("/api/") and request.method not in ("GET", "HEAD"):
            return False
        return super().should_redirect_with_slash(request)
