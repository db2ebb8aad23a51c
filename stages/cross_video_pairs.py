"""Speak-listen pairs across the recordings of one conversation (several cameras or files).

A conversation filmed by two cameras, one on each person, gives two videos: in one, A speaks
while B's voice is only heard; in the other, B listens to A. Neither video holds the pair, so
``pairs`` (within a video) cannot find it. Run-scope, after ``pairs``:

* ``summarize``: a voice embedding (Resemblyzer, ``annotators.models.voice_embedder``) of each
  speaker of the video's speech turns (``speech``), the loudness envelope of its whole analysis
  audio (``annotators.duplicates.audio_fingerprint``: 100 values a second), and its speaking and
  listening segments (times, track, identity). The voices are the turns', not ``voice_faces``':
  a camera that shows one person hears two voices but has no voice-face association to make.
* ``decide``: the voices of all videos are grouped into run voices as ``voice_identities``
  groups them (``annotators.speaking.run_voice_association.run_voice_clusters``: near
  neighbours, no n x n matrix); videos are candidates when they hear at least
  ``min_shared_voices`` run voices in common. A voice heard in more than
  ``max_videos_per_voice`` videos (a show's host) proposes no candidates alone, so the
  candidates grow with the recordings of each conversation, not with the square of the run. A
  candidate pair is one conversation when its envelopes line up
  (``annotators.audio.envelope_alignment.recording_offset``: a strong, prominent correlation
  peak), which also gives the offset between the two clocks. Each speaking segment of one video
  is then linked to the listening segments of the other video, on the shared clock, the way
  ``pairs`` links them within a video (``annotators.timelines.conversation_links``), never a
  person with themselves.
* ``apply``: the speaker's video gains the rows (``listener_video_id`` the other video,
  ``offset_s`` the listener's time minus the speaker's, ``alignment_peak`` the correlation).

Without the voice encoder (``lpm-curate models fetch voice_encoder``) no voice is shared between
videos and nothing is paired across them. The listening segment's ``partner_segment_id`` stays its
own video's. A summary holds 200 bytes per second of audio (the float16 envelope) besides its
voices and segments.

Measured (``tests/stages/test_cross_video_pairs.py``): two camera files of one conversation of
real talking heads, one started 0.64 s later, cropped and scaled differently, its audio AAC at
44.1 kHz, are paired at 0.6399 s (peak 0.998, prominence 19.8); an unrelated conversation that
shares a voice with them peaks at 0.22 (prominence 4.3) and gets no pair.
"""

from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import ClassVar

import numpy as np

from annotators.audio.envelope_alignment import MIN_PEAK, MIN_PROMINENCE, recording_offset
from annotators.duplicates.audio_fingerprint import HOP_S, loudness_envelope
from annotators.models.voice_embedder import (
    VOICE_EMBEDDING_DISTANCE_THRESHOLD,
    VOICE_ENCODER_MODEL_NAME,
    VoiceEmbedder,
)
from annotators.speaking.run_voice_association import run_voice_clusters
from annotators.timelines.conversation_links import segment_link
from curation.models.model_choice import ModelChoice
from curation.models.model_store import is_available
from curation.runtime.resources import Resources
from curation.runtime.run_scope_stage import RunScopeStage
from curation.runtime.video_work import VideoWork
from curation.store.stored_audio import audio_samples
from schemas.sample_layout import AUDIO_SAMPLE_RATE
from schemas.speech_rows import SpeakerTurn
from schemas.tables import PairRow, SegmentRow

# A voice is described from its first turns up to this long: enough for a stable embedding, and
# an hour-long interview costs no more than a short clip.
MAX_VOICE_SECONDS = 60.0


@dataclass
class ConversationSegment:
    """A speaking or listening segment as the decide task links it (a few of its columns)."""

    segment_id: str
    track_id: str
    identity_id: str | None
    state: str
    t_start: float
    t_end: float

    @classmethod
    def of(cls, segment: SegmentRow) -> "ConversationSegment":
        return cls(segment.segment_id, segment.track_id, segment.identity_id, segment.state,
                   segment.t_start, segment.t_end)

    def row(self) -> SegmentRow:
        return SegmentRow(segment_id=self.segment_id, track_id=self.track_id, identity_id=self.identity_id,
                          state=self.state, t_start=self.t_start, t_end=self.t_end)


@dataclass
class CrossVideoPairsSummary:
    """A video's speakers' voice embeddings, its speaking and listening segments, and the loudness
    envelope of its whole audio (float16, 100 values a second)."""

    voices: dict[str, list[float]]
    segments: list[ConversationSegment]
    envelope: np.ndarray


CrossVideoPairsDecision = dict[str, list[PairRow]]  # by the speaker's video


@dataclass
class CrossVideoPairsStage(RunScopeStage[CrossVideoPairsSummary, CrossVideoPairsDecision]):
    name: ClassVar[str] = "cross_video_pairs"
    needs: ClassVar[tuple[str, ...]] = ("segments", "audio", "speech", "pairs")
    adds: ClassVar[tuple[str, ...]] = ("pairs",)
    resources: ClassVar[Resources] = Resources(cpus=1)

    # Cosine distance up to which two videos' voices are one run voice (as voice_identities).
    voice_distance_threshold: float = field(default=VOICE_EMBEDDING_DISTANCE_THRESHOLD, metadata={"range": (0, 2)})
    min_shared_voices: int = field(default=1, metadata={"range": (1, None)})
    max_videos_per_voice: int = field(default=50, metadata={"range": (2, None)})
    # Two recordings must overlap this long at their offset (all of the shorter when shorter).
    min_overlap_s: float = field(default=4.0, metadata={"range": (0.5, None)})
    min_peak: float = field(default=MIN_PEAK, metadata={"range": (0, 1)})
    min_prominence: float = field(default=MIN_PROMINENCE, metadata={"range": (0, None)})
    # How segments link on the shared clock: as ``pairs`` links them within a video.
    max_gap_s: float = field(default=1.0, metadata={"range": (0, None)})
    min_segment_overlap_s: float = field(default=0.5, metadata={"range": (0, None)})

    def model_choices(self) -> list[ModelChoice]:
        if is_available(VOICE_ENCODER_MODEL_NAME):
            return [ModelChoice.using("voices across videos", self.name, VOICE_ENCODER_MODEL_NAME)]
        return [ModelChoice.instead("voices across videos", self.name, "none", VOICE_ENCODER_MODEL_NAME,
                                    "no pairs across the recordings of one conversation")]

    def setup(self) -> None:
        self._embedder = VoiceEmbedder() if is_available(VOICE_ENCODER_MODEL_NAME) else None
        if self._embedder is not None:
            self._embedder.setup()

    def summarize(self, work: VideoWork) -> CrossVideoPairsSummary | None:
        segments = [ConversationSegment.of(s) for s in work.segments if s.state in ("speaking", "listening")]
        audio = audio_samples(work)
        if self._embedder is None or not segments or not len(audio) or work.speech is None:
            return None
        voices = self._turn_voices(work.speech.turns, audio)
        if not voices:
            return None
        envelope = loudness_envelope(audio, AUDIO_SAMPLE_RATE, 0.0, len(audio) / AUDIO_SAMPLE_RATE)
        return CrossVideoPairsSummary(voices, segments, envelope.astype(np.float16))

    def _turn_voices(self, turns: list[SpeakerTurn], audio: np.ndarray) -> dict[str, list[float]]:
        """One embedding per speaker of the turns, from that speaker's turns (``MAX_VOICE_SECONDS``)."""
        by_speaker: dict[str, list[np.ndarray]] = {}
        for turn in turns:
            a, b = (int(round(t * AUDIO_SAMPLE_RATE)) for t in (turn.t_start, turn.t_end))
            by_speaker.setdefault(str(turn.speaker), []).append(audio[max(0, a) : max(0, b)])
        limit = int(MAX_VOICE_SECONDS * AUDIO_SAMPLE_RATE)
        vectors = {speaker: self._embedder.embed(np.concatenate(parts)[:limit])
                   for speaker, parts in by_speaker.items()}
        return {speaker: v.astype(float).tolist() for speaker, v in sorted(vectors.items()) if v is not None}

    def decide(self, summaries: dict[str, CrossVideoPairsSummary | None]) -> CrossVideoPairsDecision:
        present = {video_id: s for video_id, s in sorted(summaries.items()) if s is not None}
        vectors = {(video_id, voice): np.asarray(vector) for video_id, s in present.items()
                   for voice, vector in s.voices.items()}
        clusters = run_voice_clusters(vectors, self.voice_distance_threshold)
        heard: dict[str, set[int]] = {video_id: set() for video_id in present}
        for (video_id, _voice), number in clusters.items():  # once over the voices: not videos x voices
            heard[video_id].add(number)
        rows: CrossVideoPairsDecision = {}
        for first, second in self._candidates(heard):
            found = recording_offset(
                present[first].envelope, present[second].envelope, HOP_S, self.min_overlap_s,
                self.min_peak, self.min_prominence,
            )
            if found is None:
                continue
            for speaker_video, listener_video, offset in ((first, second, found.offset_s),
                                                          (second, first, -found.offset_s)):
                rows.setdefault(speaker_video, []).extend(self._pairs(
                    speaker_video, present[speaker_video].segments,
                    listener_video, present[listener_video].segments, offset, found.peak,
                ))
        return {video_id: sorted(found, key=lambda r: r.pair_id or "") for video_id, found in rows.items() if found}

    def _candidates(self, heard: dict[str, set[int]]) -> list[tuple[str, str]]:
        """Video pairs that share at least ``min_shared_voices`` run voices, found per voice."""
        by_voice: dict[int, list[str]] = {}
        for video_id, voices in heard.items():
            for voice in sorted(voices):
                by_voice.setdefault(voice, []).append(video_id)
        shared: dict[tuple[str, str], int] = {}
        for videos in by_voice.values():
            if len(videos) > self.max_videos_per_voice:
                continue
            for pair in combinations(sorted(videos), 2):
                shared[pair] = shared.get(pair, 0) + 1
        return sorted(pair for pair, count in shared.items() if count >= self.min_shared_voices)

    def _pairs(
        self,
        speaker_video: str,
        speaker_segments: list[ConversationSegment],
        listener_video: str,
        listener_segments: list[ConversationSegment],
        offset_s: float,
        peak: float,
    ) -> list[PairRow]:
        out = []
        listeners = [s.row() for s in listener_segments if s.state == "listening"]
        speakers = [s.row() for s in speaker_segments if s.state == "speaking"]
        for listening in listeners:
            for speaking in speakers:
                link = segment_link(speaking, listening, self.min_segment_overlap_s, self.max_gap_s, offset_s)
                if link is None:
                    continue
                out.append(PairRow(
                    pair_id=f"{speaking.segment_id}~{listening.segment_id}",
                    video_id=speaker_video,
                    speaking_segment_id=speaking.segment_id,
                    listening_segment_id=listening.segment_id,
                    relation=link.relation,
                    overlap_s=link.amount,
                    speaker_track_id=speaking.track_id,
                    listener_track_id=listening.track_id,
                    listener_video_id=listener_video,
                    offset_s=round(offset_s, 4),
                    alignment_peak=round(peak, 4),
                ))
        return out

    def video_decision(self, decision: CrossVideoPairsDecision, video_id: str,
                       summary: CrossVideoPairsSummary | None) -> CrossVideoPairsDecision:
        return {video_id: decision[video_id]} if video_id in decision else {}

    def apply(self, work: VideoWork, decision: CrossVideoPairsDecision) -> VideoWork:
        # copies: the decision's rows stay as loaded for another video of the same bucket
        work.pairs.extend(replace(row) for row in decision.get(work.video_id, []))
        work.pairs.sort(key=lambda p: p.pair_id or "")
        return work
