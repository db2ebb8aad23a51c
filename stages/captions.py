"""Performance annotation and captions for every segment.

Each segment's slice of per-frame signals (states, pose, blendshapes, voice activity, speaking
probability, words when ASR ran) becomes a structured annotation validated against
``schemas/performance_annotation.json``; the deterministic captioner renders it as a short and a
detailed caption that claim nothing the signals do not show. With ``vlm_endpoint`` set, an
OpenAI-compatible vision-language model is asked instead (with a few frames), and its answer is
used only when it validates; otherwise the deterministic caption stands, with the reason.

The VLM is asked about a video's segments concurrently, ``max_in_flight`` requests open at once
(``annotators/models/vlm_captioner``: retries with backoff on overload and network faults, a
deadline per attempt, results in segment order). Those requests are threads that wait on the
endpoint's sockets, not computation: the stage's ``resources`` (half a CPU, for the annotations
and the JPEG reads) need not grow with ``max_in_flight``, and an actor's CPU is free for the
other stages of its pool while the model answers. What bounds throughput is the endpoint: it sees
up to (captions actors) x ``max_in_flight`` requests, so size ``max_in_flight`` to what the
serving engine batches (vLLM's ``--max-num-seqs``) divided by the actors sending to it.
"""

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from annotators.captions.caption_writer import write_captions
from annotators.performance.performance_annotator import SegmentSignals, annotate_segment
from curation.runtime.products import SegmentCaption
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.store.stored_crops import crop_jpegs
from schemas.performance_annotation import annotation_document
from schemas.tables import SegmentRow


@dataclass
class CaptionsStage(Stage):
    name: ClassVar[str] = "captions"
    needs: ClassVar[tuple[str, ...]] = ("speech", "analysis")
    adds: ClassVar[tuple[str, ...]] = ("captions", "segments.caption")
    resources: ClassVar[Resources] = Resources(cpus=0.5)

    vlm_endpoint: str | None = None  # e.g. http://vllm-head:8000/v1 (OpenAI-compatible)
    vlm_model: str = ""
    vlm_timeout_s: float = field(default=30.0, metadata={"range": (0.1, 600)})
    vlm_frames: int = field(default=4, metadata={"range": (0, 16)})
    max_in_flight: int = field(default=16, metadata={"range": (1, 256)})  # VLM requests open at once per worker
    vlm_retries: int = field(default=3, metadata={"range": (0, 10)})  # further attempts on 408/429/5xx/network
    vlm_backoff_s: float = field(default=0.5, metadata={"range": (0, 60)})  # first backoff, doubled per attempt

    def setup(self) -> None:
        self._vlm = None
        if self.vlm_endpoint:
            import os

            from annotators.models.vlm_captioner import VlmCaptioner

            self._vlm = VlmCaptioner(self.vlm_endpoint, self.vlm_model, self.vlm_timeout_s,
                                     api_key=os.environ.get("LPM_VLM_API_KEY"), max_frames=self.vlm_frames,
                                     max_in_flight=self.max_in_flight, retries=self.vlm_retries,
                                     backoff_s=self.vlm_backoff_s)

    def process(self, work: VideoWork) -> VideoWork:
        # validated against the schema
        annotations = [annotate_segment(self._signals(work, segment)) for segment in work.segments]
        if self._vlm is not None:
            from annotators.models.vlm_captioner import CaptionRequest

            written = self._vlm.caption_many([
                CaptionRequest(annotation, self._frames(work, segment), segment.segment_id)
                for segment, annotation in zip(work.segments, annotations, strict=True)
            ])
        else:
            written = [write_captions(a, s.segment_id) for s, a in zip(work.segments, annotations, strict=True)]
        captions: dict[str, SegmentCaption] = {}
        for segment, annotation, caption in zip(work.segments, annotations, written, strict=True):
            captions[segment.segment_id] = SegmentCaption(annotation_document(annotation), caption)
            segment.caption = caption["short"]
        work.captions = captions
        return work

    @staticmethod
    def _signals(work: VideoWork, segment: SegmentRow) -> SegmentSignals:
        speech = work.speech
        fps = work.analysis.fps
        shot = next(s for s in work.shots if s.shot_id == segment.shot_id)
        features = work.track_features[segment.track_id]
        shot_first = int(round(shot.t_start * fps))
        local = slice(segment.first_frame - shot_first, segment.first_frame - shot_first + segment.n_frames)
        video = slice(segment.first_frame, segment.first_frame + segment.n_frames)
        vad = np.zeros(segment.n_frames, dtype=np.float32)
        chunk = np.asarray(speech.vad_prob[video], dtype=np.float32)
        vad[: len(chunk)] = chunk
        return SegmentSignals(
            fps=fps,
            t_start=segment.t_start,
            states=features.labelled_states()[local].astype(np.int8),
            present=features.present[local],
            signals=features.signals[local].astype(np.float32),
            blendshapes=features.blendshapes[local].astype(np.float32),
            vad_prob=vad,
            speaking_prob=features.speaking_probability()[local].astype(np.float32),
            loudness_db=float(segment.audio_loudness_db or -100.0),
            words=speech.words,
            face_box=features.face_box[local].astype(np.float32),
            # unknown camera motion must read as unknown, not as a still camera
            frame_motion=float(shot.motion) if shot.motion is not None else float("nan"),
        )

    def _frames(self, work: VideoWork, segment: SegmentRow) -> list[bytes]:
        """The frames the request carries, sampled before they are read: a video's requests are
        built together, so only ``vlm_frames`` JPEGs per segment are held at once."""
        crops = work.crops.of_track(segment.track_id) if work.crops is not None else []
        inside = [c for c in crops if segment.t_start <= c.t < segment.t_end]
        return crop_jpegs(work, self._vlm.sample(inside), "global")
