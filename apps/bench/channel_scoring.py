"""How well the shards' own and partner voice channels follow the synthetic truth.

Each kept sample's npz says, per clip frame, whether the performer's own voice (``own_voice``),
another voice (``partner_voice``) or both (``overlap``) is heard; ``own.wav``/``partner.wav`` are
cut by those flags. The truth knows who spoke when (utterances, and the listeners' backchannels
in a corpus made with ``synth --backchannels``): a person's voice is heard in a frame that one of
their utterances covers. Scored per frame of every sample whose track was matched to a truth
person: own and partner accuracy outside the truth's overlaps, and the overlaps' recall and
precision.
"""

import io
import tarfile
from typing import Any

import numpy as np

from apps.synth.truth import VideoTruth
from curation.manifests.manifest_writer import has_manifest, read_rows
from curation.store.run_store import RunStore
from schemas.sample_layout import DEFAULT_CLIP_FPS
from schemas.sample_record import SampleRecord
from schemas.tables import ShardRow


def voiced_frames(truth: VideoTruth) -> dict[str, np.ndarray]:
    """Per person: bool per truth frame, their voice heard (utterances and backchannels)."""
    voiced: dict[str, np.ndarray] = {}
    for said in [*truth.utterances, *truth.backchannels]:
        frames = voiced.setdefault(said.speaker, np.zeros(truth.n_frames, bool))
        frames[said.first_frame : said.last_frame + 1] = True
    return voiced


def _samples(store: RunStore) -> list[tuple[SampleRecord, dict[str, np.ndarray]]]:
    """(json record, npz arrays) of every sample in the run's shards."""
    found = []
    for row in read_rows(store, ShardRow) if has_manifest(store, "shards") else []:
        members: dict[str, dict[str, bytes]] = {}
        with store.open_read(row.path or "") as raw, tarfile.open(fileobj=raw) as tar:
            for info in tar.getmembers():
                key, _, ext = info.name.partition(".")
                if ext in ("json", "npz"):
                    members.setdefault(key, {})[ext] = tar.extractfile(info).read()
        for parts in members.values():
            if "json" in parts and "npz" in parts:
                with np.load(io.BytesIO(parts["npz"])) as npz:
                    found.append((SampleRecord.from_json(parts["json"]), {name: npz[name] for name in npz.files}))
    return found


def score_channels(out: str, truths: dict[str, VideoTruth], person_of_track: dict[str, str]) -> dict[str, Any]:
    """``truths``: video id -> its truth; ``person_of_track``: predicted track -> truth person."""
    agree_own = agree_partner = plain = 0
    overlap_true = overlap_caught = overlap_flagged = overlap_flagged_right = 0
    voices = {video_id: voiced_frames(truth) for video_id, truth in truths.items()}
    for record, arrays in _samples(RunStore(out)):
        person = person_of_track.get(record.track_id or "")
        truth = truths.get(record.video_id or "")
        if person is None or truth is None or "own_voice" not in arrays:
            continue
        heard = voices[record.video_id or ""]
        none = np.zeros(truth.n_frames, bool)
        own_truth = heard.get(person, none)
        partner_truth = np.any([v for p, v in heard.items() if p != person] or [none], axis=0)
        clip_frames = len(arrays["own_voice"])
        times = (record.t_start or 0.0) + np.arange(clip_frames) / (record.fps or DEFAULT_CLIP_FPS)
        index = np.clip(np.round(times * truth.fps).astype(int), 0, truth.n_frames - 1)
        own, partner = own_truth[index], partner_truth[index]
        both = own & partner
        agree_own += int((arrays["own_voice"] == own)[~both].sum())
        agree_partner += int((arrays["partner_voice"] == partner)[~both].sum())
        plain += int((~both).sum())
        overlap_true += int(both.sum())
        overlap_caught += int((arrays["overlap"] & both).sum())
        overlap_flagged += int(arrays["overlap"].sum())
        overlap_flagged_right += int((arrays["overlap"] & both).sum())
    return {
        "frames": plain + overlap_true,
        "own_voice_accuracy": agree_own / plain if plain else None,
        "partner_voice_accuracy": agree_partner / plain if plain else None,
        "overlap_frames": overlap_true,
        "overlap_recall": overlap_caught / overlap_true if overlap_true else None,
        "overlap_precision": overlap_flagged_right / overlap_flagged if overlap_flagged else None,
    }
