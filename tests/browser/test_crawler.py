"""The crawler behind the demo's walk (test_crawl.py) finds each thing that
walk fails on. The first site here is made up and served by the browser's
own routes (no server, no database); a lost session takes the live server,
as the browser follows a redirect answered by a route outside the routes."""

from urllib.parse import urlsplit

import pytest

from tests.browser.crawl import Crawler

pytestmark = pytest.mark.browser

ORIGIN = "http://crawl.test"


def html(body: str) -> dict:
    return {
        "status": 200,
        "content_type": "text/html",
        "body": f"<!doctype html><html><body>{body}</body></html>",
    }


SITE = {
    "/": html(
        '<a href="/broken/">a</a> <a href="/forbidden/">b</a> <a href="/noisy/">c</a>'
        ' <a href="/foreign/">d</a> <a href="/items/1/#top">e</a>'
        ' <a href="/items/2/">f</a> <a href="/items/3/">g</a> <a href="/logout/">h</a>'
        ' <a href="http://elsewhere.test/">i</a> <a href="mailto:help@crawl.test">j</a>'
    ),
    "/broken/": {"status": 500, "content_type": "text/html", "body": "Server Error"},
    "/forbidden/": {"status": 403, "content_type": "text/html", "body": "Forbidden"},
    "/noisy/": html("<script>console.error('chart data missing')</script><script>drawChart()</script>"),
    "/foreign/": html('<img src="http://elsewhere.test/logo.png" alt="">'),
    "/items/1/": html("one"),
    "/items/2/": html("two"),
    "/items/3/": html("three"),
    "/logout/": html("logged out"),
}


@pytest.fixture
def site(chromium):
    context = chromium.new_context()
    context.route(f"{ORIGIN}/**", lambda route: route.fulfill(**SITE[urlsplit(route.request.url).path]))
    context.route("http://elsewhere.test/**", lambda route: route.fulfill(status=200, body=b""))
    yield context
    context.close()


def test_the_crawler_reports_errors_dead_ends_console_errors_and_foreign_requests(site):
    result = Crawler(site, origin=ORIGIN, max_pages=20, max_variants=5).crawl(["/"])

    assert {(finding.url.removeprefix(ORIGIN), finding.problem) for finding in result.findings} == {
        ("/broken/", "HTTP 500"),
        ("/forbidden/", "HTTP 403"),
        ("/noisy/", "console error: chart data missing (at http://crawl.test/noisy/)"),
        ("/noisy/", "script error: drawChart is not defined"),
        ("/foreign/", "request to another host: http://elsewhere.test/logo.png"),
    }
    assert {finding.source for finding in result.findings if finding.problem.startswith("HTTP")} == {
        f"{ORIGIN}/"
    }
    opened = [visit.url.removeprefix(ORIGIN) for visit in result.visits]
    # Each kind of page before another address of one already opened, two of
    # a shape at most (never /items/3/); neither logout nor another host.
    assert opened == [
        "/",
        "/broken/",
        "/forbidden/",
        "/noisy/",
        "/foreign/",
        "/items/1/",
        "/items/2/",
    ]
    assert result.variants == 1 and result.left == 0


@pytest.mark.django_db(transaction=True)
def test_the_crawler_reports_a_page_or_download_that_sends_to_the_login_page(
    live_server, chromium, plain_static
):
    context = chromium.new_context()
    try:
        crawler = Crawler(context, origin=live_server.url, max_pages=5, max_variants=0)
        result = crawler.crawl(["/compliance/", "/compliance/attempts/1/proof.pdf"])
    finally:
        context.close()

    assert [(finding.url.removeprefix(live_server.url), finding.problem) for finding in result.findings] == [
        ("/compliance/", "sent to /login/"),
        ("/compliance/attempts/1/proof.pdf", "sent to /login/"),
    ]
