"""The review desk's door: access token, cookie, Host check, CSRF token, response headers.

The desk can approve strings that get printed and handed to people, so a page
it serves must only be usable by the person who started it:

- Access token. `outreach serve` prints a URL carrying a random token (as
  Jupyter does). The first request presents it in the query; the desk answers
  with an HttpOnly, SameSite=Strict cookie and a redirect to the same address
  without the token, so it does not stay in the address bar or the history.
  Every other request must carry the cookie. A wrong, missing or expired token
  (older than the lifetime, or from an earlier run) gets 403.
- Host check. The Host header must name the address the desk is bound to, so a
  page from another site cannot reach it through DNS rebinding (a name of its
  own that it re-points at 127.0.0.1). Wrong Host: 403.
- CSRF token. Every POST carries a second random token (a form field or the
  X-CSRF-Token header) that only the desk's own pages know; a POST whose
  Origin header names another site is refused too. (`check_csrf`, used by
  every POST route.)
- No CORS: no Access-Control-* header is ever sent. Every response carries a
  Content-Security-Policy that allows nothing but the desk itself (no CDN, no
  inline script), and is neither cached, framed nor sent to another site as a Referer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

TOKEN_PARAM = "token"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
DEFAULT_LIFETIME = dt.timedelta(hours=12)
SAFE_METHODS = frozenset({"GET", "HEAD"})
SECURITY_HEADERS = (
    (b"content-security-policy", b"default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                                 b"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
                                 b"form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make Chromium send "Origin: null" on form posts
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


def host_header(host: str, port: int) -> str:
    """The Host header a browser sends for this address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class Guard:
    """The secrets of one desk run and the rules that check them."""

    host: str
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    lifetime: dt.timedelta = DEFAULT_LIFETIME
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    started: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = self.clock()

    @property
    def cookie_name(self) -> str:
        return f"outreach_desk_{self.port}"  # one per port: two desks on one machine do not clash

    @property
    def allowed_hosts(self) -> frozenset[str]:
        hosts = {host_header(self.host, self.port)}
        if self.host == "127.0.0.1":
            hosts.add(f"localhost:{self.port}")
        return frozenset(hosts)

    @property
    def allowed_origins(self) -> frozenset[str]:
        return frozenset(f"http://{h}" for h in self.allowed_hosts)

    def url(self, path: str = "/") -> str:
        """The address to open, token included."""
        return f"http://{host_header(self.host, self.port)}{path}?{TOKEN_PARAM}={self.token}"

    def expired(self) -> bool:
        return self.clock() - self.started > self.lifetime

    def token_ok(self, presented: str | None) -> bool:
        return bool(presented) and not self.expired() and secrets.compare_digest(presented.encode(), self.token.encode())

    def check_csrf(self, presented: str | None) -> bool:
        return bool(presented) and secrets.compare_digest(presented.encode(), self.csrf.encode())


class GuardMiddleware:
    """ASGI middleware: refuses every request that fails the Host, token or Origin rule."""

    def __init__(self, app, guard: Guard):
        self.app = app
        self.guard = guard

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        guard = self.guard

        async def send_secured(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if not k.lower().startswith(b"access-control-")]
                message = {**message, "headers": kept + list(SECURITY_HEADERS)}
            await send(message)

        if headers.get("host", "") not in guard.allowed_hosts:
            await _refuse(send_secured, "This address is not the review desk's (Host header refused).")
            return
        if scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and origin not in guard.allowed_origins:
                await _refuse(send_secured, "Requests from other sites are refused.")
                return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        presented = dict(query).get(TOKEN_PARAM)
        if presented is not None and scope["method"] in SAFE_METHODS:
            if not guard.token_ok(presented):
                await _refuse(send_secured, _token_message(guard))
                return
            # Swap the token in the address for a cookie, and drop it from the address.
            rest = urlencode([(k, v) for k, v in query if k != TOKEN_PARAM])
            location = scope["path"] + (f"?{rest}" if rest else "")
            cookie = f"{guard.cookie_name}={guard.token}; HttpOnly; SameSite=Strict; Path=/"
            await send_secured({
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
                            (b"content-length", b"0")],
            })
            await send_secured({"type": "http.response.body", "body": b""})
            return
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except CookieError:  # a malformed Cookie header is simply no cookie
            cookies = SimpleCookie()
        morsel = cookies.get(guard.cookie_name)
        if not guard.token_ok(morsel.value if morsel else None):
            await _refuse(send_secured, _token_message(guard))
            return
        await self.app(scope, receive, send_secured)


def _token_message(guard: Guard) -> str:
    if guard.expired():
        return "This review desk link has expired. Stop outreach serve and start it again for a new link."
    return "Open the review desk with the link outreach serve printed (it carries the access token)."


async def _refuse(send, message: str) -> None:
    body = message.encode("utf-8")
    await send({
        "type": "http.response.start",
        "status": 403,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})
