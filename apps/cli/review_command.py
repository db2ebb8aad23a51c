"""``lpm-curate review``: a local web app to play sampled items with their sound and record verdicts."""

import argparse
import getpass
import re
import socket
import sys

from apps.cli.numeric_options import non_negative_int, port_number, positive_int
from curation.manifests.duckdb_views import manifest_names
from curation.manifests.where_filter import FilterError
from curation.run.run_store import RunStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="web app on 127.0.0.1: play sampled items with audio, record verdicts")
    p.add_argument("out", help="run directory")
    p.add_argument("--where", default=None, help="SQL predicate on segments, e.g. \"state = 'listening'\"")
    p.add_argument("--per-stratum", type=positive_int, default=6, help="items per state and per rejection reason")
    p.add_argument("--seed", type=non_negative_int, default=0, help="sampling seed (same seed, same items)")
    p.add_argument("--port", type=port_number, default=8765, help="port (0: any free port; the URL is printed)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: this machine only)")
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
    print(f"reviewing {len(items)} items of {args.out}: http://{args.host}:{port}/", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(session), log_level="warning", access_log=False))
    server.run(sockets=[sock])
    return 0
