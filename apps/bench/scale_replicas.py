"""Stored products of N videos, made by replicating a real analysed run with fresh ids.

The scale benchmark needs what a run of N videos leaves in the run store before its run-wide
stages, shards and manifests: every video's final record and outcome, its run-scope summaries
and its artefacts. A real run of a few clips gives the template: each of its kept videos is
widened to ``tracks`` tracks and ``segments`` segments (copies of its own, under new ids, whose
samples point at the same stored members), and then written N times under fresh video ids. The
artefact files (crops, audio, samples) are hard links to the source's, so N videos cost the disk
only their records. On an object store only each template's first replica carries artefacts: the
S3 bench plans the shards but does not pack them (3 MB of samples a video, 300 GB at 10^5, do not
fit a local endpoint), and nothing else reads them. The run-scope summaries are written in parts
of ``PART_VIDEOS`` videos, as a run's workers write them. Identity vectors are planted per replica
(each person in a few videos), so are the voiced spans of a two-person conversation with each
person's voice (``voice_identities``), and key-frame hashes are drawn at random (a few segments
repeat another's), so the run-wide stages do the work of a real corpus rather than of N copies of
one person. ``cross_video_pairs`` gets an empty summary per video: its barrier reads and stores,
but no video has a voice to pair.
"""

import json
import os
import random
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from annotators.identity.identity_clusterer import IDENTITY_DISTANCE_THRESHOLDS
from annotators.identity.reference_candidate import ReferenceCandidate
from curation.runtime.products import SampleEntry
from curation.runtime.video_outcome import VideoOutcome
from curation.runtime.video_work import VideoWork
from curation.storage_formats import npz_bytes
from curation.store.artefacts import ARTEFACTS_DIR, BlobArchive
from curation.store.ledger import Ledger
from curation.store.run_store import RunStore
from curation.store.summary_parts import PART_VIDEOS
from schemas.tables import SegmentRow, TrackRow
from stages.dedup import DedupSegmentSummary
from stages.identity import IdentityStage, IdentityTrackSummary
from stages.references import ReferencesStage, ReferencesSummary, candidates_of
from stages.voice_identities import VoiceIdentitiesSummary

PEOPLE_PER_VIDEO = 0.25  # each planted person appears in about four videos
DUPLICATE_FRACTION = 0.01
VECTOR_DIM = 128  # segments whose key frames repeat another segment's
VOICE_DIM = 256  # Resemblyzer's voice embedding


@dataclass
class Template:
    video_id: str
    record_json: bytes
    record_npz: bytes | None
    outcome: VideoOutcome
    references: ReferencesSummary  # candidate facts per track, every track's owner
    tracks: list[TrackRow]
    segments: list[SegmentRow]
    samples_npz: bytes  # the widened video's sample archive (member names carry no video id)
    vector_kind: tuple[str, str, int]  # (kind, strength, dimension) of its identity vectors


def make_templates(source: RunStore, blocks: dict[str, int], final: int, tracks: int, segments: int) -> list[Template]:
    """One template per kept video of the source run, widened to ``tracks`` x ``segments``."""
    ledger = Ledger(source)
    templates = []
    for video_id in sorted(ledger.finished_video_ids(final)):
        work = ledger.record(video_id, final)
        if work.state != "kept" or not work.segments or work.samples is None:
            continue
        identity = ledger.summary(video_id, blocks["identity"], IdentityStage.summary_hint()) or []
        wide, samples_npz = _widen(source, work, tracks, segments)
        text, npz = Ledger.encoded_record(wide)
        # The source's kind (and so its merge cut), at the 128 dimensions of a learned face
        # embedding (dlib's, ArcFace's 512 are alike): the no-weights descriptor's 6,363 would make
        # the index fifty times larger than any learned embedder's.
        kind = (identity[0].kind, identity[0].strength, VECTOR_DIM) if identity else (
            "landmark_texture_v1", "weak", VECTOR_DIM)
        stored = ledger.summary(video_id, blocks["references"], ReferencesStage.summary_hint())
        references = _widen_references(candidates_of(stored), wide.tracks)
        templates.append(Template(video_id, text, npz, VideoOutcome.of(wide), references, wide.tracks,
                                  wide.segments, samples_npz, kind))
    if not templates:
        raise ValueError(f"{source.uri} has no kept video with samples to replicate")
    return templates


def _widen(source: RunStore, work: VideoWork, n_tracks: int, n_segments: int) -> tuple[VideoWork, bytes]:
    tracks = [replace(work.tracks[k % len(work.tracks)], track_id=f"{work.video_id}-x{k:02d}") for k in range(n_tracks)]
    features = work.track_features[work.tracks[0].track_id]
    entries = {e.segment_id: e for e in work.samples.entries}
    segments, samples = [], []
    blobs: dict[str, bytes] = {}
    archive = BlobArchive(source.uri, work.samples.archive)
    for k in range(n_segments):
        base = work.segments[k % len(work.segments)]
        segment_id = f"{tracks[k % n_tracks].track_id}-g{k:03d}"
        segments.append(replace(base, segment_id=segment_id, track_id=tracks[k % n_tracks].track_id, key=segment_id))
        source_entry = entries[base.segment_id]
        entry = SampleEntry(segment_id, segment_id, source_entry.bucket, source_entry.member_sizes, stem=f"s{k:03d}")
        samples.append(entry)
        blobs.update({entry.member_name(ext): archive.get(source_entry.member_name(ext)) for ext in entry.member_sizes})
    archive.__exit__()
    wide = replace(
        work,
        tracks=tracks,
        segments=segments,
        track_features={t.track_id: features for t in tracks},
        pairs=[],
        samples=replace(work.samples, entries=samples),
    )
    arrays = {name: np.frombuffer(data, dtype=np.uint8) for name, data in blobs.items()}
    return wide, npz_bytes(arrays)


def _widen_references(candidates: list[ReferenceCandidate], tracks: list[TrackRow]) -> ReferencesSummary:
    """The source's candidates copied to every widened track, each track its own owner (no identity)."""
    out = []
    for track in tracks if candidates else []:
        for c in candidates:
            track_id = track.track_id
            out.append(replace(c, track_id=track_id, owner=track_id, identity_id=None, id=f"{track_id}@{c.t:.3f}"))
    return ReferencesSummary(out, sorted(track.track_id for track in tracks))


def _renamed_references(summary: ReferencesSummary, old: str, new: str) -> ReferencesSummary:
    """The template's references summary with its video id (in every id that holds it) replaced."""
    candidates = [replace(c, **{f.name: value.replace(old, new) for f in fields(c)
                                if isinstance(value := getattr(c, f.name), str)})
                  for c in summary.candidates]
    return ReferencesSummary(candidates, [owner.replace(old, new) for owner in summary.owners])


def replicate(templates: list[Template], source: RunStore, target: RunStore, blocks: dict[str, int], final: int,
              n: int, seed: int = 0) -> tuple[list[str], int]:
    """Write N replicas into ``target``; returns their video ids (sorted) and how many planted
    people appear in at least one replica (what identity clustering should find)."""
    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    ledger = Ledger(target)
    kind, strength, dim = templates[0].vector_kind
    # A person seen again: the same direction up to a small difference, two sightings a cosine
    # distance of about a fifth of the kind's merge cut apart (a fixed 0.15-rad spread did that for
    # the hand-made descriptor's 0.11, but nearly reached dlib's 0.025 and split planted people).
    spread = np.sqrt(IDENTITY_DISTANCE_THRESHOLDS[kind] / 5)
    n_people = max(len(templates[0].tracks), int(n * PEOPLE_PER_VIDEO * len(templates[0].tracks)))
    centroids = gen.standard_normal((n_people, dim)).astype(np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    voices = gen.standard_normal((n_people, VOICE_DIM)).astype(np.float32)  # each person's voice
    voices /= np.linalg.norm(voices, axis=1, keepdims=True)
    earlier_hashes: list[tuple[int, ...]] = []
    first_replica: dict[str, str] = {}  # template video id -> the replica whose files the others link to
    seen_people: set[int] = set()
    ids = []
    with _writes(target.remote) as write, _summary_parts(ledger, write) as save_summary:
        for i in range(n):
            template = templates[i % len(templates)]
            video_id = f"f{i:015x}"
            ids.append(video_id)
            old = template.video_id
            record = template.record_json.replace(old.encode(), video_id.encode())
            record = record.replace(json.dumps(source.uri).encode(), json.dumps(target.uri).encode())
            write(ledger.save_encoded_record, video_id, final, record, template.record_npz)
            write(_write_artefacts, source, target, template, video_id, first_replica.setdefault(old, video_id))
            write(ledger.save_outcome, replace(template.outcome, video_id=video_id), final)
            tracks = [replace(t, track_id=t.track_id.replace(old, video_id)) for t in template.tracks]
            people = gen.choice(n_people, size=len(tracks), replace=False)
            seen_people.update(int(p) for p in people)
            vectors = centroids[people] + spread / np.sqrt(dim) * gen.standard_normal((len(tracks), dim)).astype(
                np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            save_summary(video_id, blocks["identity"], [
                IdentityTrackSummary(t.track_id, video_id, t.t_start, t.t_end, v, kind, strength, n_segments=2,
                                     seconds=8.0)
                for t, v in zip(tracks, vectors, strict=True)
            ])
            dedup = []
            for s in template.segments:
                if earlier_hashes and rng.random() < DUPLICATE_FRACTION:
                    hashes = rng.choice(earlier_hashes)
                else:
                    hashes = tuple(rng.getrandbits(64) for _ in range(max(1, int(2 * (s.t_end - s.t_start)))))
                    earlier_hashes.append(hashes)
                dedup.append(DedupSegmentSummary(s.segment_id.replace(old, video_id), video_id, list(hashes)))
            save_summary(video_id, blocks["dedup"], dedup)
            save_summary(video_id, blocks["references"], _renamed_references(template.references, old, video_id))
            if "voice_identities" in blocks:
                save_summary(video_id, blocks["voice_identities"],
                             _planted_conversation(tracks[:2], people[:2], voices, gen))
            if "cross_video_pairs" in blocks:
                # what a video with no voice to match leaves: the stage's barrier reads and stores,
                # its decide has nothing to pair (its work over planted voices is not measured here)
                save_summary(video_id, blocks["cross_video_pairs"], None)
    return ids, len(seen_people)


@contextmanager
def _summary_parts(ledger: Ledger, write: Callable[..., None]) -> Iterator[Callable[[str, int, Any], None]]:
    """``save_summary(video_id, block, summary)``: the summaries in parts of ``PART_VIDEOS`` videos
    per block, as the workers of a run write them (``summary_parts``). Their per-video copies, which
    a run-wide stage reads only for a video that no part holds once, are not planted."""
    held: dict[int, dict[str, Any]] = {}

    def save_summary(video_id: str, block: int, summary: Any) -> None:
        held.setdefault(block, {})[video_id] = summary
        if len(held[block]) >= PART_VIDEOS:
            write(ledger.save_summary_part, block, held.pop(block))

    yield save_summary
    for block, summaries in held.items():
        write(ledger.save_summary_part, block, summaries)


@contextmanager
def _writes(remote: bool, writers: int = 16, pending: int = 2000) -> Iterator[Callable[..., None]]:
    """``write(fn, *args)``: at once on a local disk; on an object store many at once (planting
    10^5 videos' objects one round trip after another would take longer than what is measured),
    at most ``pending`` queued so memory stays flat; the first error is raised at the end."""
    if not remote:
        yield lambda fn, *args: fn(*args)
        return
    queued: list[Future[None]] = []
    with ThreadPoolExecutor(writers, thread_name_prefix="plant") as pool:

        def write(fn: Callable[..., None], *args: object) -> None:
            queued.append(pool.submit(fn, *args))
            if len(queued) >= pending:
                for future in queued:
                    future.result()
                queued.clear()

        yield write
        for future in queued:
            future.result()

def _planted_conversation(
    tracks: list[TrackRow], people: np.ndarray, voices: np.ndarray, gen: np.random.Generator
) -> VoiceIdentitiesSummary | None:
    """A voice_identities summary as a two-person conversation leaves it: each of the first two
    tracks' people speaks over their own face (in sync) and over the other's (not), their voices
    near the planted person's voice; None for a video of one track (no association)."""
    if len(tracks) < 2:
        return None
    spans, vectors = [], {}
    for k, (track, person) in enumerate(zip(tracks, people, strict=True)):
        vector = voices[person] + 0.02 * gen.standard_normal(VOICE_DIM).astype(np.float32)
        vectors[str(k)] = (vector / np.linalg.norm(vector)).tolist()
        for voice in range(2):
            spans.append({"track_id": track.track_id, "face": f"face-{k}", "voice": str(voice),
                          "first": 50 * voice, "end": 50 * voice + 50,
                          "sync": float(gen.normal(1.8, 0.8) if voice == k else gen.normal(1.0, 0.5))})
    identities = {t.track_id: f"planted-{p}" for t, p in zip(tracks, people, strict=True)}
    return VoiceIdentitiesSummary(spans, identities, vectors, sync_baseline=-1.0)


def _write_artefacts(source: RunStore, target: RunStore, template: Template, new: str, first: str) -> None:
    """The first replica of a template gets the source's crops and audio (hard links) and the widened
    sample archive; every later replica hard-links the first one's files: the bytes are on disk once.
    On an object store the first replica gets copies and the others nothing (see the module note)."""
    if target.remote:
        if first == new:
            for item in source.local_path(f"{ARTEFACTS_DIR}/{template.video_id}").iterdir():
                if item.name != "samples.npz":
                    target.write_bytes(f"{ARTEFACTS_DIR}/{new}/{item.name}", item.read_bytes())
            target.write_bytes(f"{ARTEFACTS_DIR}/{new}/samples.npz", template.samples_npz)
        return
    folder = target.local_path(f"{ARTEFACTS_DIR}/{new}")
    folder.mkdir(parents=True, exist_ok=True)
    if first != new:
        for item in target.local_path(f"{ARTEFACTS_DIR}/{first}").iterdir():
            os.link(item, folder / item.name)
        return
    for item in source.local_path(f"{ARTEFACTS_DIR}/{template.video_id}").iterdir():
        if item.name != "samples.npz":
            os.link(item, folder / item.name)
    (folder / "samples.npz").write_bytes(template.samples_npz)
