"""What a run has finished, kept in the run directory so a killed run resumes where it stopped.

``work/ingest/<key>.json``: one input URI's identity (content id, size, or why unreadable).
``work/block<k>/<video_id>.pkl``: one video's ``VideoWork`` after the k-th block of per-video
stages (blocks are separated by run-scope stages; the last block's records are the final ones).
Each file is written atomically and only once its content is final, so its presence means "done".
"""

import hashlib
import json
import pickle
from dataclasses import asdict

from curation.ingest.content_id import InputIdentity
from curation.run.run_store import RunStore
from curation.runtime.video_work import VideoWork
from schemas.reasons import Reason

INGEST_DIR = "work/ingest"
VIDEOS_DIR = "work/block0"  # the first block: what `status` counts as analysed


def block_dir(block: int) -> str:
    return f"work/block{block}"


def uri_key(uri: str) -> str:
    return hashlib.sha1(uri.encode("utf-8", "surrogateescape")).hexdigest()[:20]


class Ledger:
    def __init__(self, store: RunStore) -> None:
        self.store = store

    def identity(self, uri: str) -> InputIdentity | None:
        name = f"{INGEST_DIR}/{uri_key(uri)}.json"
        if not self.store.exists(name):
            return None
        data = json.loads(self.store.read_bytes(name))
        if data.get("reason"):
            data["reason"] = Reason(data["reason"])
        return InputIdentity(**data)

    def save_identity(self, identity: InputIdentity) -> None:
        data = asdict(identity)
        data["reason"] = str(identity.reason) if identity.reason else None
        self.store.write_bytes(f"{INGEST_DIR}/{uri_key(identity.uri)}.json", json.dumps(data).encode())

    def finished_video(self, video_id: str, block: int = 0) -> VideoWork | None:
        name = f"{block_dir(block)}/{video_id}.pkl"
        if not self.store.exists(name):
            return None
        return pickle.loads(self.store.read_bytes(name))

    def finished_video_ids(self, block: int = 0) -> set[str]:
        return {name.removesuffix(".pkl") for name in self.store.list(block_dir(block), ".pkl")}

    def save_video(self, work: VideoWork, block: int = 0) -> None:
        assert work.video_id is not None
        # The summaries of run-scope stages go beside the record, so the driver can read them
        # without loading every video's features.
        summaries = work.extras.pop("summaries", None)
        if summaries is not None:
            self.store.write_bytes(f"{block_dir(block)}/{work.video_id}.summary", pickle.dumps(summaries, protocol=5))
        self.store.write_bytes(f"{block_dir(block)}/{work.video_id}.pkl", pickle.dumps(work, protocol=5))

    def summaries(self, video_id: str, block: int) -> dict:
        name = f"{block_dir(block)}/{video_id}.summary"
        if not self.store.exists(name):
            return {}
        return pickle.loads(self.store.read_bytes(name))
