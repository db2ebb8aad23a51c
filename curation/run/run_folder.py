"""What ``--out`` may be before a run writes into it: absent, empty, or a run of this toolkit.

A run removes what it does not own in its folders (stale shards, a killed attempt's manifests),
so a folder holding someone's files must be refused before the first write: with it, a mistyped
``--out`` deleted ``DIR/shards/mine.tar`` and wrote ``logs/``, ``work/`` and ``run.json`` among a
user's files. A run of this toolkit is known by what every run writes first, ``run.json`` with a
workflow fingerprint and a schema version; an export (``"kind": "export"``) is a dataset, not a
run to resume, and is refused too.
"""

import json
import os

from curation.faults.store_retry import with_retries
from curation.run.run_info import RUN_FILE
from curation.store.run_store import TEMP_PREFIX, RunStore

# Written before run.json (the driver's log capture starts first): a run stopped in between left
# only this, and running the same command again must resume it.
STARTED_RUN_ENTRIES = frozenset({"logs"})


class RunFolderError(ValueError):
    """``--out`` holds something other than a run of this toolkit."""


def check_run_folder(store: RunStore) -> None:
    """Raise ``RunFolderError`` (one line, naming the folder) unless a run may write into ``store``."""
    entries = _entries(store)
    if entries is None:
        return
    if RUN_FILE not in entries:
        foreign = sorted(e for e in entries if not e.startswith(TEMP_PREFIX) and e not in STARTED_RUN_ENTRIES)
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise RunFolderError(f"--out {store.uri} holds files that are not a run of lpm-curate ({shown}); "
                                 "choose an absent or empty folder, or an earlier run to resume")
        return
    try:
        info = json.loads(store.read_bytes(RUN_FILE))
    except (OSError, ValueError):
        info = None
    if not isinstance(info, dict) or not {"workflow_fingerprint", "schema_version"} <= info.keys():
        raise RunFolderError(f"--out {store.uri} holds a {RUN_FILE} that lpm-curate did not write; "
                             "choose an absent or empty folder, or an earlier run to resume")
    if info.get("kind") == "export":
        raise RunFolderError(f"--out {store.uri} is an export made by lpm-curate export, not a run; "
                             "choose an absent or empty folder, or an earlier run to resume")


def _remote_entries(store: RunStore) -> set[str] | None:
    # info(), not exists() and isfile(): fsspec's isfile() answers False to any error, so a 503 on
    # its request went unretried and unseen
    try:
        info = store.fs.info(store.root)
    except FileNotFoundError:
        return None
    if info["type"] == "file":
        raise RunFolderError(f"--out {store.uri} is a file, not a folder")
    store.fs.invalidate_cache(store.root)  # a listing cached earlier in this process may be stale
    inside = [p.rstrip("/") for p in store.fs.ls(store.root, detail=False)]
    return {p.rsplit("/", 1)[-1] for p in inside if p != store.root.rstrip("/")}


def _entries(store: RunStore) -> set[str] | None:
    """The names directly inside the folder; None when there is no folder (a run may create it)."""
    if store.remote:
        return with_retries(lambda: _remote_entries(store), f"looking into {store.uri}")
    if not os.path.lexists(store.root):
        return None
    if not os.path.isdir(store.root):
        raise RunFolderError(f"--out {store.uri} is a file, not a folder")
    return set(os.listdir(store.root))
