"""``lpm-curate review``: a local web app to play sampled items with their sound and record verdicts."""

import argparse
import getpass
import ipaddress
import re
import secrets
import socket
import sys

from apps.cli.numeric_options import non_negative_int, port_number, positive_int
from curation.manifests.duckdb_views import manifest_names
from curation.manifests.where_filter import FilterError
from curation.store.run_store import RunStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="web app on 127.0.0.1: play sampled items with audio, record verdicts")
    p.add_argument("out", help="run directory")
    p.add_argument("--where", default=None, help="SQL predicate on segments, e.g. \"state = 'listening'\"")
    p.add_argument("--per-stratum", type=positive_int, default=6, help="items per state and per rejection reason")
    p.add_argument("--seed", type=non_negative_int, default=0, help="sampling seed (same seed, same items)")
    p.add_argument("--port", type=port_number, default=8765, help="port (0: any free port; the URL is printed)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: this machine only); any other needs --allow-host and "
                        "prints a URL with an access token (docs/review.md)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a host name or address reviewers type to reach the server (repeatable); requests "
                        "naming any other host are refused")
    p.add_argument("--reviewer", default=None, help="default reviewer name (the page takes ?reviewer=NAME)")
    p.set_defaults(handler=handle)


def default_reviewer() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "reviewer"
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "reviewer"


def handle(args: argparse.Namespace) -> int:
    import uvicorn

    from apps.review.review_app import ReviewSession, create_app, strata_counts
    from apps.review.review_items import sample_review_items

    if not manifest_names(RunStore(args.out)):
        print(f"error: {args.out} has no manifests (is it a run directory?)", file=sys.stderr)
        return 2
    try:
        items = sample_review_items(args.out, args.where, args.per_stratum, args.seed)
    except FilterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        hosts, url_host, token = access_policy(args.host, args.allow_host)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    session = ReviewSession(args.out, items, args.reviewer or default_reviewer())
    # Bind and listen first, then print: with --port 0 the URL names the port the kernel chose, and
    # a client that connects at once waits in the backlog until the server accepts.
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    for stratum, n in strata_counts(session).items():
        print(f"  {stratum}: {n}")
    if token:
        print(f"  listening on {args.host}: anyone with this URL can record verdicts; hosts allowed: "
              f"{', '.join(hosts)}")
    query = f"?token={token}" if token else ""
    print(f"reviewing {len(items)} items of {args.out}: http://{url_host}:{port}/{query}", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(session, hosts, token), log_level="warning", access_log=False))
    server.run(sockets=[sock])
    return 0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_policy(host: str, allow_hosts: list[str]) -> tuple[tuple[str, ...], str, str | None]:
    """The Host names the server answers to, the name its printed URL uses, and its access token.

    On a loopback address no token is needed (as before); on any other, a fresh token is required
    on every request, and the URL names a host the guard accepts."""
    from apps.review.request_guard import LOCAL_HOSTS

    def url_name(name: str) -> str:
        return f"[{name}]" if ":" in name and not name.startswith("[") else name

    allowed = [url_name(h) for h in allow_hosts]
    if is_loopback(host):
        return tuple(dict.fromkeys((*LOCAL_HOSTS, url_name(host), *allowed))), url_name(host), None
    if host in ("0.0.0.0", "::"):
        if not allowed:
            raise ValueError(f"--host {host} listens on every interface: say which name reviewers will type "
                             "with --allow-host NAME (e.g. --allow-host $(hostname -f)); see docs/review.md")
    else:
        allowed.append(url_name(host))
    return (*LOCAL_HOSTS, *dict.fromkeys(allowed)), allowed[0], secrets.token_urlsafe(24)
