"""Performance annotation and captions for every segment.

Each segment's slice of per-frame signals (states, pose, blendshapes, voice activity, speaking
probability, words when ASR ran) becomes a structured annotation validated against
``schemas/performance_annotation.json``; the deterministic captioner renders it as a short and a
detailed caption that claim nothing the signals do not show. With ``vlm_endpoint`` set, an
OpenAI-compatible vision-language model is asked instead (with a few frames), and its answer is
used only when it validates; otherwise the deterministic caption stands, with the reason.
"""

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from annotators.captions.caption_writer import write_captions
from annotators.performance.performance_annotator import SegmentSignals, annotate_segment
from curation.runtime.products import SegmentCaption
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.stored_crops import crop_jpegs
from curation.runtime.video_work import VideoWork


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

    def setup(self) -> None:
        self._vlm = None
        if self.vlm_endpoint:
            import os

            from annotators.models.vlm_captioner import VlmCaptioner

            self._vlm = VlmCaptioner(self.vlm_endpoint, self.vlm_model, self.vlm_timeout_s,
                                     api_key=os.environ.get("LPM_VLM_API_KEY"), max_frames=self.vlm_frames)

    def process(self, work: VideoWork) -> VideoWork:
        captions: dict[str, SegmentCaption] = {}
        for segment in work.segments:
            annotation = annotate_segment(self._signals(work, segment))  # validated against the schema
            if self._vlm is not None:
                caption = self._vlm.caption(annotation, self._frames(work, segment), segment["segment_id"])
            else:
                caption = write_captions(annotation, segment["segment_id"])
            captions[segment["segment_id"]] = SegmentCaption(annotation, caption)
            segment["caption"] = caption["short"]
        work.captions = captions
        return work

    @staticmethod
    def _signals(work: VideoWork, segment: dict[str, Any]) -> SegmentSignals:
        speech = work.speech
        fps = work.analysis.fps
        shot = next(s for s in work.shots if s["shot_id"] == segment["shot_id"])
        features = work.track_features[segment["track_id"]]
        shot_first = int(round(shot["t_start"] * fps))
        local = slice(segment["first_frame"] - shot_first, segment["first_frame"] - shot_first + segment["n_frames"])
        video = slice(segment["first_frame"], segment["first_frame"] + segment["n_frames"])
        vad = np.zeros(segment["n_frames"], dtype=np.float32)
        chunk = np.asarray(speech.vad_prob[video], dtype=np.float32)
        vad[: len(chunk)] = chunk
        return SegmentSignals(
            fps=fps,
            t_start=segment["t_start"],
            states=features["state"][local].astype(np.int8),
            present=features["present"][local],
            signals=features["signals"][local].astype(np.float32),
            blendshapes=features["blendshapes"][local].astype(np.float32),
            vad_prob=vad,
            speaking_prob=features["speaking_prob"][local].astype(np.float32),
            loudness_db=float(segment.get("audio_loudness_db") or -100.0),
            words=speech.words,
            face_box=features["face_box"][local].astype(np.float32),
            # unknown camera motion must read as unknown, not as a still camera
            frame_motion=float(shot["motion"]) if shot.get("motion") is not None else float("nan"),
        )

    @staticmethod
    def _frames(work: VideoWork, segment: dict[str, Any]) -> list[bytes]:
        crops = work.crops.of_track(segment["track_id"]) if work.crops is not None else []
        return crop_jpegs(work, [c for c in crops if segment["t_start"] <= c.t < segment["t_end"]], "global")
