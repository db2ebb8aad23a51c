"""``lpm-curate models list|fetch|verify|train-sync|train-face-voice``: the model registry from the command line."""

import argparse
import json
import os

from rich.console import Console
from rich.table import Table

from apps.cli.face_voice_command import add_train_face_voice_parser
from apps.cli.learned_sync_command import add_train_parser
from curation.models.model_catalog import MODEL_CATALOG
from curation.models.model_provenance import provenance
from curation.models.model_store import fetch, is_available, model_path, models_dir, resolve, verify


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, fetch or verify model files (LPM_MODELS_DIR)")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    lp = msub.add_parser("list", help="every known model, where it lives and whether it is present")
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(handler=handle_list)
    fp = msub.add_parser("fetch", help="download models into the models directory (the only network use)")
    fp.add_argument("names", nargs="*", help="model names (default: all non-gated models)")
    fp.add_argument("--all", action="store_true",
                    help="every model, the gated diarization model too (needs HF_TOKEN with its terms accepted)")
    fp.add_argument("--force", action="store_true", help="download again even when present")
    fp.set_defaults(handler=handle_fetch)
    vp = msub.add_parser("verify", help="check present models against their SHA-256")
    vp.add_argument("names", nargs="*", help="model names (default: all)")
    vp.add_argument("--json", action="store_true")
    vp.set_defaults(handler=handle_verify)
    add_train_parser(msub)
    add_train_face_voice_parser(msub)


def handle_list(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": spec.name,
            "source": spec.source,
            "present": is_available(spec.name),
            "path": _where(spec.name),
            "used_by": ",".join(spec.used_by),
            "pin": provenance(spec.name).__dict__,
            "description": spec.description,
        }
        for spec in MODEL_CATALOG.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    table = Table("name", "present", "source", "used by", "description", title=f"models in {models_dir()}")
    for r in rows:
        table.add_row(r["name"], "yes" if r["present"] else "[red]no[/]", r["source"], r["used_by"], r["description"])
    Console().print(table)
    return 0


def _where(name: str) -> str:
    if MODEL_CATALOG[name].source != "package":
        return str(model_path(name))
    return str(resolve(name)) if is_available(name) else f"(inside the {MODEL_CATALOG[name].package} package)"


def handle_fetch(args: argparse.Namespace) -> int:
    names = args.names or [s.name for s in MODEL_CATALOG.values() if args.all or not s.gated]
    status = 0
    for name in names:
        spec = MODEL_CATALOG.get(name)
        if spec is not None and spec.gated and not os.environ.get("HF_TOKEN"):
            print(f"{name}: SKIPPED: {spec.repo_id} is gated on Hugging Face. Accept its terms at "
                  f"https://huggingface.co/{spec.repo_id}, create a read token, then run "
                  f"HF_TOKEN=... lpm-curate models fetch {name}")
            status = 1
            continue
        try:
            path = fetch(name, force=args.force)
            print(f"{name}: {path}")
        except Exception as err:
            print(f"{name}: FAILED: {err}")
            status = 1
    return status


def handle_verify(args: argparse.Namespace) -> int:
    names = args.names or list(MODEL_CATALOG)
    results = [verify(name) for name in names]
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=1))
    else:
        for r in results:
            print(f"{r.name:18} {r.status:9} {r.detail}")
    return 1 if any(r.status == "mismatch" for r in results) else 0
