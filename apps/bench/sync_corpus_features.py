"""What the lip-sync verdict is given, per speaking segment of real talking heads, cached once.

The learned lip-sync model (``annotators.models.learned_sync``) is trained and scored held out on
exactly what the states stage hands a ``LipSyncModel``: each speaking segment's ``MouthTrack``
(mouth opening, ``jawOpen``, mouth darkness per analysis frame, with up to 5 s of its track on each
side) and the video's 16 kHz audio. Rather than a second face pipeline, the bench stages run on
each clip (``apps.bench.speaking_bench``, every speaking segment scored and kept) with the
labeller's lip-sync model (the offline estimator, ``av_sync``) wrapped by
``lip_sync_recorder.LipSyncRecorder``, which records what it is asked to score and its score, so the
cache carries the baseline too.

One ``.npz`` per clip under the cache folder (outside the repository): the audio, and per segment
its context signals, where the segment lies in them, its ``av_sync`` score and its weight (voiced
frames labelled speaking inside it, as ``bench dubbing`` weighs a segment); beside the signals, the
context's mouth blendshapes (``MOUTH_BLENDSHAPES``, read by ``benchmarks.sync_variants``; the
network does not use them). ``CLIPS.csv`` lists the clips with their source and person.
"""

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from annotators.face.face_signals import BLENDSHAPE_NAMES, Signal
from annotators.face.landmarked_face import FaceEmbedder
from annotators.face.mouth_track import MouthTrack
from annotators.identity.track_identity import face_embedder, track_identity_vector
from apps.bench.lip_sync_recorder import Call, install_recorder, latest_calls
from apps.bench.speaking_bench import analyse, bench_stages
from apps.bench.state_scoring import predicted_frame_states
from curation.runtime.video_work import VideoWork
from curation.store.stored_audio import audio_samples
from schemas.performer_states import PerformerState

SCORE_EVERY_SEGMENT = ("states.reject_out_of_sync=false", "states.lip_sync_model=av_sync")
# MediaPipe's mouth blendshapes: lip closure, rounding, rolling, pressing and stretching, which the
# three signals (opening, jawOpen, darkness) do not separate.
MOUTH_BLENDSHAPES = (
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper", "mouthPressLeft",
    "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft",
    "mouthSmileRight",
)
_MOUTH_COLUMNS = [BLENDSHAPE_NAMES.index(name) for name in MOUTH_BLENDSHAPES]
# The face of each segment as dlib's ResNet describes it (installed with the package, the identity
# embedder wherever ArcFace is not fetched): what the face/voice match reads (``face_voice_match``).
FACE_DESCRIPTOR = "dlib"


@dataclass(frozen=True)
class FeatureClip:
    path: Path
    source: str
    person: str


def corpus_clips(corpus_dir: Path) -> list[FeatureClip]:
    """The calibration corpus's talking heads (``calibration fetch``'s MANIFEST.csv)."""
    with open(corpus_dir / "MANIFEST.csv", newline="", encoding="utf-8") as fh:
        return [FeatureClip(corpus_dir / r["file"], r["source_id"], r["person_id"])
                for r in csv.DictReader(fh) if r["label"] == "talking_head"]


def shared_clips(media_dir: Path) -> list[FeatureClip]:
    """The shared media's talking heads; their source is the repository, their person as ``bench dubbing`` says."""
    from apps.bench.talking_head_sources import clip_sources, person_key, talking_head_names

    sources = clip_sources(media_dir)
    return [FeatureClip(media_dir / name, sources.get(name, person_key(name)), person_key(name))
            for name in talking_head_names(media_dir)]


ClipArrays = Callable[[VideoWork, list[Call], float, FaceEmbedder], dict[str, np.ndarray]]


def extract(
    clips: list[FeatureClip], out_dir: Path, workdir: Path, arrays_of: "ClipArrays | None" = None
) -> list[dict[str, Any]]:
    """Analyse each clip not yet cached and write its ``.npz`` (``arrays_of``: what to store of it;
    None: ``clip_arrays``); returns the CLIPS.csv rows."""
    arrays_of = arrays_of or clip_arrays
    out_dir.mkdir(parents=True, exist_ok=True)
    stages = bench_stages(list(SCORE_EVERY_SEGMENT))
    recorder = install_recorder(stages)
    embedder = face_embedder(FACE_DESCRIPTOR)
    rows = []
    for clip in clips:
        target = out_dir / f"{clip.path.stem}.npz"
        if not target.exists():
            started = time.perf_counter()
            work = analyse(clip.path, stages, workdir)
            calls = recorder.take()
            arrays = arrays_of(work, calls, stages[-1].vad_threshold, embedder)
            np.savez_compressed(target.with_suffix(".tmp.npz"), **arrays)
            target.with_suffix(".tmp.npz").rename(target)
            print(f"{clip.path.name}: {len(calls)} speaking segments, {time.perf_counter() - started:.1f} s",
                  flush=True)
        with np.load(target) as data:
            rows.append({"clip": target.name, "source": clip.source, "person": clip.person,
                         "segments": int(len(data["seg_first"]))})
    with open(out_dir / "CLIPS.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["clip", "source", "person", "segments"])
        writer.writeheader()
        writer.writerows(sorted({r["clip"]: r for r in rows}.values(), key=lambda r: r["clip"]))
    return rows


def clip_arrays(
    work: VideoWork, calls: list[Call], vad_threshold: float, embedder: FaceEmbedder
) -> dict[str, np.ndarray]:
    """The recorded segments as flat arrays: signals concatenated, with offsets per segment."""
    n = work.analysis.n_frames if work.analysis is not None else 0
    fps = work.analysis.fps if work.analysis is not None else 25.0
    vad = np.asarray(work.speech.vad_prob, dtype=np.float32)[:n] if work.speech is not None else np.zeros(n)
    voiced = np.zeros(n, dtype=bool)
    voiced[: len(vad)] = vad >= vad_threshold
    speaking = predicted_frame_states(work, n) == PerformerState.SPEAKING
    signals, blend, faces, ctx_first, ctx_len, seg_first, seg_len, scores, weights = ([] for _ in range(9))
    for mouth, _, score in latest_calls(calls).values():
        context = mouth.context or mouth
        signals.append(np.stack([context.mouth_open, context.jaw_open, context.mouth_dark], axis=1))
        blend.append(mouth_blendshapes(work, context, fps))
        faces.append(face_vector(work, context, fps, embedder))
        ctx_first.append(context.first_frame)
        ctx_len.append(len(context.mouth_open))
        seg_first.append(mouth.first_frame)
        seg_len.append(len(mouth.mouth_open))
        scores.append(score)
        inside = slice(mouth.first_frame, mouth.first_frame + len(mouth.mouth_open))
        weights.append(int((voiced[inside] & speaking[inside]).sum()))
    # A clip without a speaking segment still lends its voice to the dubbed copies of the others.
    audio = calls[-1][1] if calls else audio_samples(work)
    return {
        "audio": np.asarray(audio, dtype=np.float32),
        "fps": np.float64(fps),
        "signals": np.concatenate(signals).astype(np.float32) if signals else np.zeros((0, 3), np.float32),
        "blend": np.concatenate(blend) if blend else np.zeros((0, len(MOUTH_BLENDSHAPES)), np.float32),
        "face": np.stack(faces) if faces else np.zeros((0, embedder.dimension), np.float32),
        "ctx_first": np.asarray(ctx_first, dtype=np.int64),
        "ctx_len": np.asarray(ctx_len, dtype=np.int64),
        "seg_first": np.asarray(seg_first, dtype=np.int64),
        "seg_len": np.asarray(seg_len, dtype=np.int64),
        "av_sync": np.asarray(scores, dtype=np.float64),
        "weight": np.asarray(weights, dtype=np.int64),
    }


def context_track(work: VideoWork, context: MouthTrack, fps: float) -> tuple[str, int] | None:
    """The usable track whose frames ``context`` shows, and where they start in its features. A
    MouthTrack does not name its track, so it is the one whose mouth opening over those frames is the
    context's (None when none is)."""
    n = len(context.mouth_open)
    shots = {s.shot_id: s for s in work.shots}
    for track in work.tracks:
        if not track.usable:
            continue
        features = work.track_features[track.track_id]
        a = context.first_frame - int(round(shots[track.shot_id].t_start * fps))
        if a < 0 or a + n > len(features):
            continue
        opening = features.signals[a : a + n, Signal.MOUTH_OPEN].astype(np.float32)
        if np.allclose(opening, context.mouth_open, equal_nan=True):
            return track.track_id, a
    return None


def mouth_blendshapes(work: VideoWork, context: MouthTrack, fps: float) -> np.ndarray:
    """(n, len(MOUTH_BLENDSHAPES)) of the track frames ``context`` shows (NaN rows when no track is
    found, which a reader treats as an absent face)."""
    n = len(context.mouth_open)
    found = context_track(work, context, fps)
    if found is None:
        return np.full((n, len(MOUTH_BLENDSHAPES)), np.nan, np.float32)
    track_id, a = found
    return work.track_features[track_id].blendshapes[a : a + n][:, _MOUTH_COLUMNS].astype(np.float32)


def face_vector(work: VideoWork, context: MouthTrack, fps: float, embedder: FaceEmbedder) -> np.ndarray:
    """The identity vector of the track ``context`` shows (the embedder's kind, as the states stage
    computes it for voice-face grouping); NaN when there is none."""
    found = context_track(work, context, fps)
    vector = track_identity_vector(work, found[0], embedder) if found is not None else None
    if vector is None:
        return np.full(embedder.dimension, np.nan, np.float32)
    return np.asarray(vector.vector, dtype=np.float32)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a calibration fetch cache")
    parser.add_argument("--media", type=Path, help="a media folder with MANIFEST.csv (talking_head clips)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/lpm-sync-features"))
    args = parser.parse_args()
    clips = (corpus_clips(args.corpus) if args.corpus else []) + (shared_clips(args.media) if args.media else [])
    extract(clips, args.out, args.workdir)


if __name__ == "__main__":
    main()
