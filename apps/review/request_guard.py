"""Who may talk to the review server: this machine's own pages, or holders of the session's token.

By default the server listens on 127.0.0.1, but any web page open in the reviewer's browser can
still send requests there. Three checks stop that: the Host header must be one of the allowed
names (a DNS-rebound name is refused), a request that says it comes from another origin
(``Origin`` or ``Sec-Fetch-Site``) is refused, and a verdict must be posted as JSON (a plain HTML
form on another site cannot send that without a CORS preflight, which this server never answers).

Bound to another address (``--host``), anyone on that network can connect, so every request must
also carry the session's token: in the printed URL (``?token=``, which sets a cookie for the
page's own later requests), that cookie, or an ``X-Review-Token`` header. Compared in constant time.
"""

import hmac
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
TOKEN_COOKIE = "lpm_review_token"
TOKEN_HEADER = "x-review-token"


class RequestGuard:
    def __init__(self, app: ASGIApp, hosts: tuple[str, ...] = LOCAL_HOSTS, token: str | None = None) -> None:
        self.app = app
        self.hosts = hosts
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = refusal(scope["method"], headers, self.hosts)
        from_url = False
        if problem is None and self.token is not None:
            problem, from_url = self.token_refusal(headers, scope.get("query_string", b"").decode("latin-1"))
        if problem:
            await PlainTextResponse(problem, status_code=403)(scope, receive, send)
            return
        extra = list(_SECURITY_HEADERS)
        if from_url:  # the page's own later requests (fetch, <video src>) carry the cookie
            cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            extra.append((b"set-cookie", cookie.encode("latin-1")))

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


    def token_refusal(self, headers: dict[str, str], query: str) -> tuple[str | None, bool]:
        """Why a request without the right token is refused, and whether the token came in the URL."""
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except CookieError:  # a malformed Cookie header is no token
            cookies = SimpleCookie()
        offered = [
            (headers.get(TOKEN_HEADER), False),
            (cookies[TOKEN_COOKIE].value if TOKEN_COOKIE in cookies else None, False),
            (next(iter(parse_qs(query).get("token", [])), None), True),
        ]
        for value, from_url in offered:
            if value is not None and hmac.compare_digest(value.encode(), self.token.encode()):
                return None, from_url
        return "refused: this review server needs its access token (open the URL it printed)", False


def refusal(method: str, headers: dict[str, str], hosts: tuple[str, ...]) -> str | None:
    """Why a request is refused, or ``None`` when it may proceed."""
    host = headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name not in hosts:
        return f"refused: host {host!r} is not this machine"
    origin = headers.get("origin")
    if origin is not None and origin != f"http://{host}":
        return f"refused: cross-origin request from {origin!r}"
    if headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return "refused: cross-site request"
    if method not in ("GET", "HEAD", "POST"):
        return f"refused: method {method}"
    if method == "POST" and headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return "refused: verdicts are posted as application/json"
    return None


_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline'; "
     b"frame-ancestors 'none'"),
]
