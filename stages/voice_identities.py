"""Whose voice is it, on the whole run's evidence; videos whose answer changes are labelled again.

Run-scope, after ``identity``. Each video's voice-face association (``states``, the
``voice_faces`` product) rests on that video's spans alone: a shot/reverse-shot conversation may
show each pairing of a voice and a face once, in a 2-s span, and one coincidence can then give a
voice to the wrong face, so the whole conversation's speaking and listening swap. A run usually
hears its people more than once. Each video sends its voiced spans (face group, voice, synchrony),
the identity of each span's track and each voice's embedding. The decide task puts the spans in
run terms, a face by its identity and a voice by its group across the run, pools their synchrony
per (run voice, identity) and matches each video's voices to its faces on the pooled evidence
(``annotators.speaking.run_voice_association``). A video whose foreign spans (lips under another
face's voice) change is labelled again with the settings its ``states`` recorded
(``annotators.speaking.state_labeller``): its segments and segment rejections are replaced, and
its segments take their tracks' identities. The identities table keeps the segment counts of the
first labelling (``identity`` ran before); a relabelled video's segments may be cut a little
differently where its states changed.

Without the voice encoder a video's voices carry no embedding and cannot be found again in another
video; its faces still pool by identity, but each voice only with itself. A voice or a face that
no other video shares scores exactly as in the video's own association.

Measured with ``lpm-curate bench speaking`` (docs/benchmarks.md, speaking benchmark): seed 3's two swapped
conversations are put right; no other conversation of seeds 0-5 or of the 36-conversation set
changes. Letting two
voices of one video join (``voices_apart_within_video: false``) mended the one conversation of the
36 whose person was seen as two faces and heard as two voices, but in seed 1 it joined two
people's voices; so voices of one video stay apart by default.
"""

from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from annotators.models.voice_embedder import VOICE_EMBEDDING_DISTANCE_THRESHOLD
from annotators.speaking.run_voice_association import VideoVoice, pooled_owners, run_faces, run_voice_clusters
from annotators.speaking.state_labeller import StateLabeller
from annotators.speaking.voice_face_association import VoicedSpan, foreign_spans
from curation.runtime.products import VoiceFaces
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_work import VideoWork
from curation.store.stored_audio import audio_samples
from schemas.voice_span import VoiceSpan


@dataclass
class VoiceIdentitiesSummary:
    """A video's voiced spans (rows of its ``voice_faces``), each span's track's identity, each
    voice's embedding (none without the voice encoder), and its association's synchrony baseline."""

    spans: list[VoiceSpan]
    identity_of_track: dict[str, str | None]
    voice_vectors: dict[str, list[float]]
    sync_baseline: float


@dataclass
class VideoVoicesDecision:
    """One video's voices in run terms: each voice's run voice, each run voice's owner (a run
    face), and the spans whose lips move under another face's voice ([track id, first, end])."""

    run_voices: dict[str, str]
    run_owners: dict[str, str]
    foreign: list[list[Any]]


VoiceIdentitiesDecision = dict[str, VideoVoicesDecision]  # by video id; a video absent has no voices


@dataclass
class VoiceIdentitiesStage(RunScopeStage[VoiceIdentitiesSummary, VoiceIdentitiesDecision]):
    name: ClassVar[str] = "voice_identities"
    needs: ClassVar[tuple[str, ...]] = ("tracks", "segments", "analysis", "audio", "speech")
    adds: ClassVar[tuple[str, ...]] = (
        "voice_faces.scope", "voice_faces.run_voices", "voice_faces.run_owners", "voice_faces.foreign",
        "voice_faces.relabelled", "segments", "rejections", "track_features.state", "track_features.speaking_prob",
    )
    resources: ClassVar[Resources] = Resources(cpus=1)
    # apply labels a video again when the run moved a voice: the CPUs ``states`` has for that work
    apply_resources: ClassVar[Resources] = Resources(cpus=0.5)
    # 2: spans whose lips follow their voice unmistakably (UNMISTAKABLE_SYNC) are never foreign
    version: ClassVar[int] = 2

    # Cosine distance of two videos' voice embeddings (each from all of that voice's spans) up to
    # which they are one run voice: Resemblyzer's uncapped cut (annotators/models/voice_embedder).
    voice_distance_threshold: float = field(default=VOICE_EMBEDDING_DISTANCE_THRESHOLD, metadata={"range": (0, 2)})
    # False lets two voices of one video join across the run (one person the video saw as two
    # faces, and so heard as two voices), at the risk of joining two people (module docstring).
    voices_apart_within_video: bool = True

    def setup(self) -> None:
        self.setup_decision()

    def setup_decision(self) -> None:
        self._labellers: dict[str, StateLabeller] = {}

    def summarize(self, work: VideoWork) -> VoiceIdentitiesSummary | None:
        association = work.voice_faces
        if association is None or not association.spans:
            return None
        identity_of = {t.track_id: t.identity_id for t in work.tracks}
        return VoiceIdentitiesSummary(
            spans=association.spans,
            identity_of_track={s.track_id: identity_of.get(s.track_id) for s in association.spans},
            voice_vectors=association.voice_vectors,
            sync_baseline=association.sync_baseline,
        )

    def decide(self, summaries: dict[str, VoiceIdentitiesSummary | None]) -> VoiceIdentitiesDecision:
        present = {video_id: s for video_id, s in sorted(summaries.items()) if s is not None}
        if not present:
            return {}
        baselines = {s.sync_baseline for s in present.values()}
        if len(baselines) > 1:
            raise ValueError(f"the videos' voice-face associations used different baselines: {sorted(baselines)}")
        vectors = {
            (video_id, voice): np.asarray(vector, dtype=np.float64)
            for video_id, s in present.items()
            for voice, vector in s.voice_vectors.items()
        }
        clusters = run_voice_clusters(vectors, self.voice_distance_threshold, self.voices_apart_within_video)
        run_spans = {video_id: _in_run_terms(video_id, s, clusters) for video_id, s in present.items()}
        owners = pooled_owners(run_spans, baselines.pop())
        # each video's run voices, gathered in one pass over the voices: looking them up per video
        # among all of them was videos x voices (10^10 steps at 10^5 videos; bench scale found it)
        run_voices: dict[str, dict[Any, str]] = {video_id: {} for video_id in present}
        for (vid, voice), number in clusters.items():
            run_voices[vid][voice] = _run_voice(number)
        return {
            video_id: VideoVoicesDecision(
                run_voices=run_voices[video_id],
                run_owners=owners[video_id],
                foreign=[
                    [s.track_id, s.first, s.end] for s in foreign_spans(run_spans[video_id], owners[video_id])
                ],
            )
            for video_id in present
        }

    def video_decision(self, decision: VoiceIdentitiesDecision, video_id: str,
                       summary: VoiceIdentitiesSummary | None) -> VoiceIdentitiesDecision:
        """This video's entry alone (none for a video without voices): at 10^5 videos the whole
        decision took 255 MB to load in every apply actor (bench scale)."""
        return {video_id: decision[video_id]} if video_id in decision else {}

    def apply(self, work: VideoWork, decision: VoiceIdentitiesDecision) -> VideoWork:
        decided = decision.get(work.video_id)
        association = work.voice_faces
        if decided is None or association is None:
            return work
        association.scope = "run"
        association.run_voices = decided.run_voices
        association.run_owners = decided.run_owners
        run_foreign = _span_set(decided.foreign)
        association.relabelled = run_foreign != _span_set(_own_foreign(association))
        if run_foreign == _span_set(association.foreign):
            return work
        association.foreign = decided.foreign
        self._labeller(association.labelling).relabel(work, decided.foreign, audio_samples(work), work.analysis.fps)
        if work.state == "rejected":
            work.detail = f"{work.detail} (labelled again by {self.name}: the run gave a voice to another face)"
        identity_of = {t.track_id: t.identity_id for t in work.tracks}
        for segment in work.segments:
            segment.identity_id = identity_of.get(segment.track_id)
        return work

    def _labeller(self, settings: dict[str, Any]) -> StateLabeller:
        """The labeller ``states`` used, rebuilt once per worker for each set of settings."""
        key = repr(sorted(settings.items()))
        if key not in self._labellers:
            labeller = StateLabeller(**settings)
            labeller.setup()
            self._labellers[key] = labeller
        return self._labellers[key]


def _voiced(row: VoiceSpan) -> VoicedSpan:
    """A stored span of the ``voice_faces`` product as the association's type."""
    return VoicedSpan(row.track_id, row.face, row.voice, row.first, row.end, float(row.sync))


def _run_voice(number: int) -> str:
    return f"voice-{number:04d}"


def _in_run_terms(video_id: str, summary: VoiceIdentitiesSummary,
                  clusters: dict[VideoVoice, int]) -> list[VoicedSpan]:
    """The video's spans with the voice named by its run voice and the face by its identity;
    what neither names keeps a name of its own video ("<video id>/<label>")."""
    spans = [_voiced(row) for row in summary.spans]
    faces = run_faces(spans, summary.identity_of_track)

    def voice(label: Hashable | None) -> str | None:
        if label is None:
            return None
        number = clusters.get((video_id, label))
        return f"{video_id}/{label}" if number is None else _run_voice(number)

    return [replace(s, voice=voice(s.voice), face=faces.get(s.face, f"{video_id}/{s.face}")) for s in spans]


def _own_foreign(association: VoiceFaces) -> list[list[Any]]:
    """The foreign spans of the video's own association (its ``owners``)."""
    spans = [_voiced(row) for row in association.spans]
    return [[s.track_id, s.first, s.end] for s in foreign_spans(spans, association.owners)]


def _span_set(spans: list[list[Any]]) -> set[tuple[str, int, int]]:
    return {(str(track_id), int(first), int(end)) for track_id, first, end in spans}
