"""An HTTP proxy (for tests and benchmarks) that stands between s3fs and moto's S3 server and misbehaves on purpose.

On a seeded fraction of requests it answers ``503 SlowDown`` (an S3 error document, as AWS sends
when it throttles) without passing the request on, drops the connection without an answer (a
reset), or passes the request on after a delay; every other request goes through unchanged. A
plan may also stall the first ``stall_times`` requests whose line (``GET /bucket/key``) contains
``stall_path``: the answer's body trickles in over ``stall_s``, slowly enough to outlast a
per-video watchdog while no single read waits long enough for the client's read timeout. A stall
counts once it is met: a client that dies with its machine while it waits (on one host, a Ray
worker whose node is killed: its parent, the raylet, goes with it, or went first and left it to
init) never outlasted anything, so the next matching request stalls instead; a client stopped
alone (the watchdog kills its actor) has met it. The faults are real HTTP seen by real
botocore/aiohttp, not patched functions. Point ``AWS_ENDPOINT_URL`` at ``proxy.url``.
"""

import http.client
import random
import select
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import psutil

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
TRICKLE_PIECES = 10
# After a stalled client hangs up, how long its parent may take to go too when their machine died
# (SIGKILL to a process group reaches every process at once, the reaping does not).
MACHINE_GONE_S = 0.5
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}


@dataclass
class FaultPlan:
    error_fraction: float = 0.0  # answered 503 SlowDown
    reset_fraction: float = 0.0  # connection closed without an answer
    slow_fraction: float = 0.0  # passed on after ``slow_s``
    slow_s: float = 0.3
    seed: int = 0
    stall_path: str = ""  # the first ``stall_times`` requests whose "METHOD path" contains it ...
    stall_times: int = 0
    stall_s: float = 0.0  # ... have their answer trickle in over this long
    # "requests", "errors", "resets", "slow", "stalls" (met); "stalls_lost": stalls whose client died
    # with its machine before they could be met; "most_open": the most requests in the proxy at once
    seen: Counter[str] = field(default_factory=Counter)
    drawn: list[tuple[str, str]] = field(default_factory=list)  # ("METHOD path", what it met), in order
    # The parent of each stalled request's client, by name ("raylet": a Ray worker), "?" when not found
    stalled_parents: list[str] = field(default_factory=list)
    _random: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def opened(self) -> None:
        with self._lock:
            self._open += 1
            self.seen["most_open"] = max(self.seen["most_open"], self._open)

    def closed(self) -> None:
        with self._lock:
            self._open -= 1

    def draw(self, request: str = "") -> str:
        with self._lock:
            fault = self._draw(request)
            self.drawn.append((request, fault))
            return fault

    def stall_lost(self, request: str) -> None:
        """The stalled answer's client died with its machine: the stall is drawn again."""
        with self._lock:
            self.seen["stalls"] -= 1
            self.seen["stalls_lost"] += 1
            self.drawn.append((request, "stall lost"))

    def _draw(self, request: str) -> str:
        """What the request meets; the caller holds the lock."""
        self.seen["requests"] += 1
        if self.stall_path and self.stall_path in request and self.seen["stalls"] < self.stall_times:
            self.seen["stalls"] += 1
            return "stalls"
        x = self._random.random()
        for name, fraction in (("errors", self.error_fraction), ("resets", self.reset_fraction),
                               ("slow", self.slow_fraction)):
            if x < fraction:
                self.seen[name] += 1
                return name
            x -= fraction
        return "pass"


def _handler(upstream: str, plan: FaultPlan) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            """Quiet."""

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _forward(self) -> None:
            plan.opened()
            try:
                self._answer()
            finally:
                plan.closed()

        def _answer(self) -> None:
            body = self._body()
            fault = plan.draw(f"{self.command} {self.path}")
            if fault == "resets":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "errors":
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(SLOW_DOWN)))
                self.end_headers()
                # A HEAD answer has no body (S3's 503 to a HEAD has none): bytes after it would be
                # read as the next answer on the kept-alive connection, and that request's fault
                # counted against another one's (seen as an injected error that no retry matched).
                if self.command != "HEAD":
                    self.wfile.write(SLOW_DOWN)
                return
            if fault == "slow":
                threading.Event().wait(plan.slow_s)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                # A HEAD answer has no body but tells the object's size: pass that on, not 0.
                length = answer.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD" and fault == "stalls":
                    parent = _parent_of_client(self.client_address, self.server.server_address)
                    plan.stalled_parents.append(_name(parent))
                    if not self._trickle(data) and not _still_running(parent):
                        plan.stall_lost(f"{self.command} {self.path}")
                elif self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                connection.close()

        def _trickle(self, data: bytes) -> bool:
            """The body in ``TRICKLE_PIECES`` pieces spread over ``stall_s``: each piece comes well
            within a client's read timeout (s3fs's is 15 s), so the client waits it out. False
            when the client hung up first."""
            step = -(-len(data) // TRICKLE_PIECES) or 1
            for start in range(0, max(len(data), 1), step):
                if _hung_up(self.connection, plan.stall_s / TRICKLE_PIECES):
                    self.close_connection = True
                    return False
                try:
                    self.wfile.write(data[start : start + step])
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True
                    return False
            return True

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward  # noqa: N815 - http.server names them

    return Handler


def _hung_up(connection: socket.socket, wait_s: float) -> bool:
    """Whether the client closed its end within ``wait_s``: a client waiting for an answer sends
    nothing, so the socket turns readable only with its end of file (or a reset)."""
    readable, _, _ = select.select([connection], [], [], wait_s)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _parent_of_client(client: tuple[str, int], server: tuple[str, int]) -> psutil.Process | None:
    """The parent of the process on this host that holds the client's end of the connection;
    None when that process is not here (a client on another machine) or cannot be read."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    for found in connections:
        if found.pid and found.laddr and tuple(found.laddr[:2]) == tuple(client[:2]) and found.raddr \
                and found.raddr.port == server[1]:  # fmt: skip
            try:
                return psutil.Process(found.pid).parent()
            except psutil.Error:
                return None
    return None


def _name(process: psutil.Process | None) -> str:
    try:
        return process.name() if process else "?"
    except psutil.Error:
        return "?"


def _still_running(process: psutil.Process | None) -> bool:
    """Whether ``process``, a stalled client's parent, is alive ``MACHINE_GONE_S`` on (None: not
    known, taken as running); init (an orphaned client's adoptive parent) never counts as alive."""
    if process is None:
        return True
    if process.pid == 1:
        # An orphan's parent: the client's own parent (a raylet) died before the stall began and
        # init adopted it. Its machine is gone, though init runs on (seen once in a loaded suite:
        # the stall was counted met and no watchdog ever timed the read out).
        return False
    threading.Event().wait(MACHINE_GONE_S)
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass
class FaultyProxy:
    url: str
    plan: FaultPlan


@contextmanager
def faulty_proxy(upstream: str, plan: FaultPlan) -> Iterator[FaultyProxy]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, plan))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FaultyProxy(f"http://127.0.0.1:{server.server_address[1]}", plan)
    finally:
        server.shutdown()
        server.server_close()
