"""Who may talk to the review server: this machine's own pages, nothing else.

The server listens on 127.0.0.1, but any web page open in the reviewer's browser can still send
requests there. Three checks stop that: the Host header must name this machine (a DNS-rebound
name is refused), a request that says it comes from another origin (``Origin`` or
``Sec-Fetch-Site``) is refused, and a verdict must be posted as JSON (a plain HTML form on another
site cannot send that without a CORS preflight, which this server never answers).
"""

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class RequestGuard:
    def __init__(self, app: ASGIApp, hosts: tuple[str, ...] = LOCAL_HOSTS) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = refusal(scope["method"], headers, self.hosts)
        if problem:
            await PlainTextResponse(problem, status_code=403)(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
