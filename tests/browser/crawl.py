"""A breadth-first crawl of the live site in one logged-in browser context,
recording what a person following every link would run into.

It only ever opens links (GETs): it never submits a form or clicks a
button, so it changes nothing a person opening the same pages would not
change. Downloads (PDF, CSV, JSON) are requested and their status checked,
never rendered. Same-origin links only; logout is skipped.

Findings, each with the page whose link led there:
- a page, download or request from a page answering 4xx or 5xx (a 403
  behind a link shown to the persona is a dead end: the link should not
  have been shown);
- a link that lands on a login or two-factor page (the session was lost);
- a console error or an uncaught script error;
- any request to a host other than the server (the pages must work
  offline; it is recorded, not blocked: a route would switch the browser's
  cache off, and every page would fetch its scripts and styles again).

Order and bound: breadth first, every kind of page first (a path, its ids
and tokens as placeholders; a download by its format), so that every menu
and view is covered, up to `max_pages` (a kind left unopened is counted: the
caller should fail on it). Then up to `max_variants` other addresses of
kinds already opened (another id, filter or sort order), where data-bound
faults hide, one kind after another. Links of one shape (a kind's path and
the same query keys) are queued at most `per_shape` times: a tenth customer
or a fifth sort order finds nothing the first ones did not.
"""

import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urljoin, urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response
from playwright.sync_api import Error as PlaywrightError

LOGIN_PATHS = ("/login/", "/admin/login/", "/two-factor/setup/", "/two-factor/verify/")
DOWNLOAD_FORMATS = {"csv", "pdf", "json", "txt", "zip"}
# Resolved by the browser, so relative links come back absolute.
LINKS_JS = "anchors => anchors.map(a => a.href)"
# htmx marks an element while its request is in flight, and fragments loaded
# with the page carry links too: none while a request is out.
PAGE_LINKS_JS = """() => document.querySelector('.htmx-request') ? null
    : Array.from(document.querySelectorAll('a[href]'), a => a.href)"""
HTMX_IDLE_JS = "() => !document.querySelector('.htmx-request')"


@dataclass(frozen=True)
class Finding:
    url: str
    problem: str
    source: str  # the page whose link led to `url`, or on which it happened

    def __str__(self) -> str:
        return f"{self.url}: {self.problem}" + (
            f" (linked from {self.source})" if self.source != self.url else ""
        )


@dataclass
class Visit:
    url: str
    status: int | None
    depth: int
    download: bool = False
    landed: str = ""  # after redirects: the page its links are on
    seconds: float = 0.0


@dataclass
class CrawlResult:
    visits: list[Visit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    variants: int = 0  # visits to other addresses of kinds already opened
    left: int = 0  # links still queued when the bound was reached
    left_kinds: int = 0  # of which to kinds of page never opened

    def add(self, finding: Finding) -> None:
        if finding not in self.findings:
            self.findings.append(finding)


def shape(url: str) -> tuple[str, tuple[str, ...]]:
    """A URL's path, each segment holding a digit (an id, a signed token)
    as `<value>`, and its query's keys."""
    parts = urlsplit(url)
    path = "/".join(
        "<value>" if any(c.isdigit() for c in segment) else segment for segment in parts.path.split("/")
    )
    return path, tuple(sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}))


def download_format(url: str) -> str | None:
    """What the link downloads ("pdf", "csv"...), or None for a page."""
    parts = urlsplit(url)
    formats = [value for key, value in parse_qsl(parts.query) if key in ("export", "format")]
    name = parts.path.rpartition("/")[2]
    suffix = name.rpartition(".")[2] if "." in name else ""
    return next((fmt for fmt in [*formats, suffix] if fmt in DOWNLOAD_FORMATS), None)


def kind(url: str) -> str:
    """The kind of page a link opens: its path's shape, or a download of it in one format."""
    fmt = download_format(url)
    return shape(url)[0] + (f" ({fmt})" if fmt else "")


def normal(url: str) -> str:
    """Without its fragment, nor a bare "?": the same page."""
    return urlsplit(url)._replace(fragment="").geturl()


class Crawler:
    def __init__(
        self,
        context: BrowserContext,
        *,
        origin: str,
        max_pages: int,
        max_variants: int,
        per_shape: int = 2,
        on_page: Callable[[Page, Visit], None] | None = None,
    ):
        self.context = context
        self.origin = origin.rstrip("/")
        self.max_pages = max_pages
        self.max_variants = max_variants
        self.per_shape = per_shape
        self.on_page = on_page
        self.result = CrawlResult()
        self.current = f"{self.origin}/"
        self.page = context.new_page()
        self.page.on("request", self._request)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self._found(self.current, f"script error: {error}"))
        self.page.on("response", self._response)
        self.page.on("requestfailed", self._request_failed)

    def open(self, url: str) -> Page:
        """Go to a page outside the crawl (logging in, a screenshot), its events recorded as the crawl's are."""
        self.current = urljoin(self.origin, url)
        self.page.goto(self.current)
        self.page.wait_for_function(HTMX_IDLE_JS, polling=50)
        return self.page

    def same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self.origin

    def crawl(self, start: list[str]) -> CrawlResult:
        fresh = deque((normal(urljoin(self.origin, url)), "(start)", 0) for url in start)
        variants: dict[str, deque] = {}  # by kind, in the order kinds were found
        seen = {url for url, _, _ in fresh}
        shapes = Counter(shape(url) for url in seen)
        kinds = {kind(url) for url in seen}
        opened: Counter = Counter()  # variants opened, by kind
        while len(self.result.visits) < self.max_pages:
            if fresh:
                url, source, depth = fresh.popleft()
            elif (turn := self._next_kind(variants, opened)) is not None:
                url, source, depth = variants[turn].popleft()
                opened[turn] += 1
            else:
                break
            visit, links = self._visit(url, source, depth)
            for link in links:
                if link in seen or not self._followable(link) or shapes[shape(link)] >= self.per_shape:
                    continue
                seen.add(link)
                shapes[shape(link)] += 1
                if kind(link) in kinds:
                    variants.setdefault(kind(link), deque()).append((link, visit.landed, depth + 1))
                else:
                    fresh.append((link, visit.landed, depth + 1))
                    kinds.add(kind(link))
        self.result.variants = opened.total()
        self.result.left_kinds = len(fresh)
        self.result.left = len(fresh) + sum(map(len, variants.values()))
        return self.result

    def _next_kind(self, variants: dict[str, deque], opened: Counter) -> str | None:
        """The kind whose variant is opened next: round robin, so that the
        budget spreads over many kinds rather than one list's sort orders."""
        if opened.total() >= self.max_variants:
            return None
        return min((k for k, queue in variants.items() if queue), key=opened.__getitem__, default=None)

    def _visit(self, url: str, source: str, depth: int) -> tuple[Visit, list[str]]:
        self.current = url
        began = time.monotonic()
        visit = Visit(url, None, depth, download=download_format(url) is not None, landed=url)
        links = self._download(visit, source) if visit.download else self._open(visit, source)
        visit.seconds = time.monotonic() - began
        self.result.visits.append(visit)
        return visit, links

    def _followable(self, url: str) -> bool:
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and self.same_origin(url)
            and not parts.path.endswith("/logout/")
            and not parts.path.startswith(LOGIN_PATHS)
        )

    def _open(self, visit: Visit, source: str) -> list[str]:
        """In the browser: the page, then the fragments htmx loads into it; its links."""
        try:
            response = self.page.goto(visit.url, wait_until="load")
        except PlaywrightError as error:
            if "Download is starting" in error.message:
                visit.download = True
                return self._download(visit, source)
            self._found(visit.url, f"did not load: {error.message.splitlines()[0]}", source)
            return []
        visit.status = response.status if response else None
        visit.landed = self.current = self.page.url
        if visit.status is not None and visit.status >= 400:
            self._found(visit.url, f"HTTP {visit.status}", source)
        if (path := urlsplit(visit.landed).path).startswith(LOGIN_PATHS):
            self._found(visit.url, f"sent to {path}", source)
            return []
        links = self.page.evaluate(PAGE_LINKS_JS)
        if links is None:
            try:
                self.page.wait_for_function(HTMX_IDLE_JS, polling=50, timeout=5_000)
            except PlaywrightError:
                self._found(visit.url, "htmx requests still running after 5 s", source)
            links = self.page.evaluate(PAGE_LINKS_JS) or []
        if self.on_page:
            self.on_page(self.page, visit)
        return [normal(link) for link in links]

    def _download(self, visit: Visit, source: str) -> list[str]:
        """With the context's cookies but not in the browser: the status is
        checked, the file not rendered. A redirect is returned as a link, to
        be followed (or not) like any other."""
        response = self.context.request.get(visit.url, max_redirects=0)
        visit.status = response.status
        if response.status >= 400:
            self._found(visit.url, f"HTTP {response.status} (download)", source)
        if not 300 <= response.status < 400:
            return []
        target = urljoin(visit.url, response.headers.get("location", ""))
        if not self.same_origin(target):
            self._found(visit.url, f"redirects to another host: {target}", source)
        elif urlsplit(target).path.startswith(LOGIN_PATHS):
            self._found(visit.url, f"sent to {urlsplit(target).path}", source)
        return [normal(target)]

    def _found(self, url: str, problem: str, source: str | None = None) -> None:
        self.result.add(Finding(url, problem, source or url))

    def _request(self, request: Request) -> None:
        if not self.same_origin(request.url) and urlsplit(request.url).scheme in ("http", "https"):
            self._found(self.current, f"request to another host: {request.url}")

    def _console(self, message: ConsoleMessage) -> None:
        # "Failed to load resource" repeats an answer of 4xx/5xx or a failed
        # request, which the network listeners record with their URL.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            where = message.location.get("url") or self.current
            self._found(self.current, f"console error: {message.text} (at {where})")

    def _response(self, response: Response) -> None:
        request = response.request
        document = request.is_navigation_request() and request.frame.parent_frame is None
        if response.status >= 400 and not document:  # a document's status is the visit's
            self._found(self.current, f"HTTP {response.status} for {request.method} {response.url}")

    def _request_failed(self, request: Request) -> None:
        # Aborted: the next navigation cut a request of the page short.
        if self.same_origin(request.url) and request.failure != "net::ERR_ABORTED":
            self._found(self.current, f"{request.method} {request.url} failed: {request.failure}")
