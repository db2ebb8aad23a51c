"""Decode each video once and run every frame-level analyser on that one stream, as a cascade.

Most raw footage shows no performer, and the FaceLandmarker is most of the cost, so the pass is
coarse wherever no face a performer could have is in view (``annotators.face.landmark_gate``):
on every fifth frame (``coarse_fps``) shots and quality on a small picture, BlazeFace on it and,
every ``small_face_every_s``, a tiled search for smaller faces, each face confirmed by the
landmarker on its crop. From a coarse frame with a face of ``cascade_min_face_px`` the pass is
fine, from ``cascade_lookback_s`` before it (the decoder's frames are converted only when a pass
asks, ``curation.media.source_frames``) until ``cascade_hold_s`` without such a face: per frame,
shot detection and quality on a thumbnail, the FaceLandmarker on the analysis frame, small faces
(searched every few seconds, followed on crops), and (at ``text_overlay_fps``, on frames with a
face, over the rows of the performers' crops) the OCR text detector for burned-in text
(``annotators.models.text_box_detector``). After the pass: shots (from the detectors of each
span, ``annotators.shots.spanned_shots``), per-shot face tracks with float16 per-frame signals, a
few JPEG crops per second of every face for identity and references, and per shot the share of
frames landmarked and the face detector's evidence on its coarse frames, which the performer filter
judges a shot by when it was not landmarked. ``cascade=False`` landmarks every frame.
"""

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import cv2
import numpy as np

from annotators.face.coarse_evidence import CompetingRule, ShotJudge
from annotators.face.landmark_gate import LandmarkGate, PendingShot
from annotators.face.track_features import assemble_tracks, track_summary
from annotators.models.face_detector import BlazeFaceDetector
from annotators.models.face_landmarker import FaceLandmarkerAnnotator
from annotators.models.small_face_finder import SmallFaceFinder
from annotators.models.text_box_detector import TextBoxDetector
from annotators.shots.frame_quality import QUALITY_NAMES
from annotators.shots.shot_detector import make_shot_detector
from annotators.shots.spanned_shots import SpannedShots
from annotators.shots.text_overlay import Region, performer_band, shot_text_scores, text_on_region_frac
from curation.ingest.local_copy import local_media
from curation.media.clip_encoder import performer_crop
from curation.media.frame_source import AnalysisGeometry
from curation.media.source_frames import LAZY_DECODERS
from curation.models.model_choice import ModelChoice
from curation.models.model_store import resolve
from curation.runtime.products import AnalysisGrid, FaceCrop, FaceCrops, TrackFeatures
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from curation.store.artefacts import write_blobs
from schemas.tables import ShotRow, TrackRow
from stages.visual_analysis.cascade import Cascade
from stages.visual_analysis.video_pass import (
    SHARPNESS_SHORT_SIDE,
    THUMB_SHORT_SIDE,
    VideoPass,
    resize_short,
)

__all__ = ["SHARPNESS_SHORT_SIDE", "THUMB_SHORT_SIDE", "VisualAnalysisStage", "resize_short"]


@dataclass
class VisualAnalysisStage(Stage):
    name: ClassVar[str] = "visual_analysis"
    needs: ClassVar[tuple[str, ...]] = ("video",)
    adds: ClassVar[tuple[str, ...]] = ("shots", "tracks", "track_features", "analysis", "crops", "key_frame_hashes")
    resources: ClassVar[Resources] = Resources(cpus=1)

    analysis_short_side: int = field(default=512, metadata={"range": (64, 2160)})
    analysis_fps: float = field(default=25.0, metadata={"range": (1, 60)})
    decode_threads: int = field(default=1, metadata={"range": (0, 16)})
    # "inprocess": the FFmpeg libraries decode in this process and a frame is converted only at the
    # sizes a pass asks for (curation.media.source_frames), which the cascade's coarse frames need;
    # "ffmpeg": an ffmpeg process scales, converts and pipes every analysis frame. The same frames,
    # scaled ones within a grey level (PyAV's own swscale): on the 82 shared clips, landmarking
    # every frame, both gave the same shots, reasons and kept tracks.
    decoder: Literal["ffmpeg", "inprocess"] = "inprocess"
    # The cascade (annotators.face.landmark_gate): away from any face of cascade_min_face_px source
    # pixels (the performer filter's min_face_px is 64), only coarse_fps frames a second are looked
    # at (shots, quality, BlazeFace; the tiled search every small_face_every_s); from a coarse frame
    # showing one, every frame is landmarked, from cascade_lookback_s before it until
    # cascade_hold_s without one. Off: every frame is landmarked (as before issue 17).
    cascade: bool = True
    coarse_fps: float = field(default=5.0, metadata={"range": (0.5, 60)})
    cascade_min_face_px: float = field(default=48.0, metadata={"range": (0, None)})
    cascade_lookback_s: float = field(default=0.5, metadata={"range": (0, 10)})
    cascade_hold_s: float = field(default=0.5, metadata={"range": (0, None)})
    # Per shot (annotators.face.landmark_gate): a shot showing a performer-sized face is held
    # (unconverted, at most cascade_buffer_mb of decoded frames) while its coarse frames gather
    # evidence. It is landmarked as soon as cascade_evidence_s of them pass the performer filter's
    # thresholds, and at its end (or at the memory bound) unless its evidence fails them by
    # cascade_skip_margin; then the filter judges it on that evidence. Off: every shot with such a
    # face is landmarked from where the face appears (as the cascade first did).
    cascade_judges_shots: bool = True
    cascade_evidence_s: float = field(default=0.6, metadata={"range": (0, 10)})
    cascade_skip_margin: float = field(default=0.15, metadata={"range": (0, 1)})
    cascade_buffer_mb: float = field(default=256.0, metadata={"range": (16, None)})
    # The decode watchdog covers analysis too (ffmpeg waits on the pipe): seconds per video second.
    timeout_per_video_s: float = field(default=10.0, metadata={"range": (1, None)})
    shot_detector: Literal["content", "adaptive", "threshold", "histogram", "hash", "transnetv2"] = "content"
    shot_threshold: float = field(default=27.0, metadata={"range": (0, None)})
    # TransNetV2's transition probability above which a frame is part of a cut, dissolve or fade.
    transnet_threshold: float = field(default=0.5, metadata={"range": (0, 1)})
    min_shot_gap_s: float = field(default=0.5, metadata={"range": (0, None)})
    max_faces: int = field(default=4, metadata={"range": (1, 16)})
    small_faces: bool = True
    # A new small face is looked for this often (a tiled search costs about four landmarker frames);
    # once found it is followed on every frame. Every 2 s instead saved 2 % of the analysis time
    # but lost the small faces of two of the four mislabelled no_face clips that do show people.
    small_face_every_s: float = field(default=1.0, metadata={"range": (0.04, None)})
    # While the full-frame landmarker already sees a face, new small faces can only be bystanders
    # (a performer-sized face is found by the landmarker itself), and bystanders stay for seconds:
    # looking every 3 s instead of every 1 s is two-thirds less tiling on talking heads, which is
    # where the analysis spends most of its time.
    small_face_every_with_face_s: float = field(default=3.0, metadata={"range": (0.04, None)})
    max_small_faces: int = field(default=2, metadata={"range": (0, 16)})
    # Beside a landmarked face this tall (a fraction of the frame's short side), no small face is
    # searched for or followed: the whole-frame landmarker finds faces from about 0.22 of the short
    # side (measured: 80 px of 360, 100-130 px of 512), so a face it misses is under half this
    # one's height, never a competing face (performer_filter.competing_face_rel is 0.5).
    small_faces_until_face_frac: float = field(default=0.44, metadata={"range": (0, 1)})
    track_max_gap_s: float = field(default=0.5, metadata={"range": (0, None)})
    frontal_max_yaw: float = field(default=35.0, metadata={"range": (0, 90)})
    frontal_max_pitch: float = field(default=25.0, metadata={"range": (0, 90)})
    crops_per_s: float = field(default=1.0, metadata={"range": (0, 25)})
    # Key-frame perceptual hashes for near-duplicate detection (a 64-bit number per key frame).
    hashes_per_s: float = field(default=2.0, metadata={"range": (0, 25)})
    # Burned-in text: OCR text detection on this many frames per second (0: off), and the crop
    # (face heights wide, the sample writer's crop_scale) whose band across the face's width is
    # where text counts as over the performer (annotators.shots.text_overlay.performer_band).
    text_overlay_fps: float = field(default=1.0, metadata={"range": (0, 25)})
    text_crop_scale: float = field(default=2.6, metadata={"range": (1, 10)})
    # Where the detector looks: "performers", the rows of this frame's faces' crops at the frame's
    # full width (text counts only in the band over and under a face, and lines are searched
    # whole), and not at all on a frame without a face (no track there, nothing to keep); "frame",
    # every sampled frame whole, as first built (the shot's text_area_frac then covers text
    # anywhere). A portrait close-up's crop is a little over half its rows; a landscape or square
    # close-up's crop spans all of them, so it costs the same.
    text_region: Literal["performers", "frame"] = "performers"
    # The workflow's performer filter (``bind``), None when the stage runs on its own. Not annotated:
    # an attribute of the stage, not one of its parameters (dataclass fields).
    _judge = None

    def bind(self, stages: list[Stage]) -> None:
        """The performer filter of the same workflow judges the shots the cascade skips, by its own
        thresholds: the cascade asks it while a shot is going (``annotators.face.landmark_gate``)."""
        self._judge: ShotJudge | None = next((s for s in stages if s.name == "performer_filter"), None)

    def setup(self) -> None:
        self._model_path = resolve("face_landmarker")
        # Image-mode models hold no state between calls: loaded once per worker, not per video
        # (about 0.1 s a video, a tenth of the analysis of a short clip without a face).
        self._face_detector = BlazeFaceDetector(self._model_path)
        # The tiled search, and the cascade's confirmation of a face on its crop.
        self._finder = SmallFaceFinder(self._model_path)
        self._text = TextBoxDetector() if self.text_overlay_fps else None
        self._transnet = None
        if self.shot_detector == "transnetv2":
            from annotators.models.transnet_network import TransNetV2Network

            self._transnet = TransNetV2Network()
            self._transnet.setup()
        # The stage declares one CPU: OpenCV's own thread pool would compete with the other workers.
        cv2.setNumThreads(1)

    def model_choices(self) -> list[ModelChoice]:
        choices = [ModelChoice.using("face landmarks", self.name, "face_landmarker")]
        if self.text_overlay_fps:
            choices.append(ModelChoice.using("burned-in text detection", self.name, "text_detector"))
        if self.shot_detector == "transnetv2":
            choices.append(ModelChoice.using("shot boundaries", self.name, "transnetv2"))
        return choices

    def process(self, work: VideoWork) -> VideoWork:
        video = work.probed()
        geometry = AnalysisGeometry.for_source(video.width, video.height, self.analysis_short_side)
        coarse_geometry = AnalysisGeometry.for_source(video.width, video.height, SHARPNESS_SHORT_SIDE)
        fps = self.analysis_fps
        learned = self.shot_detector == "transnetv2"
        threshold = self.transnet_threshold if learned else self.shot_threshold
        min_gap = max(1, round(self.min_shot_gap_s * fps))
        judge = self._judge if self.cascade_judges_shots else None
        gate = LandmarkGate(
            coarse_every=max(1, round(fps / self.coarse_fps)),
            lookback=max(1, round(self.cascade_lookback_s * fps)),
            hold=max(1, round(self.cascade_hold_s * fps)),
            min_face_px=self.cascade_min_face_px,
            always_fine=not self.cascade,
            evidence_frames=max(1, round(self.cascade_evidence_s * self.coarse_fps)),
            margin=self.cascade_skip_margin,
            judge=judge,
        )
        timeout = max(120.0, self.timeout_per_video_s * video.duration_s)
        # Set up on its first frame (``detect``): most videos never reach the fine pass, and
        # creating a landmarker costs about 30 ms.
        landmarker = FaceLandmarkerAnnotator(self._model_path, max_faces=self.max_faces)
        try:
            state = VideoPass(
                settings=self,
                geometry=geometry,
                coarse_geometry=coarse_geometry,
                gate=gate,
                landmarker=landmarker,
                face_detector=self._face_detector,
                finder=self._finder,
                shots=SpannedShots(
                    lambda: make_shot_detector(self.shot_detector, threshold, min_gap, fps, self._transnet),
                    every_frame=learned,
                    min_gap=min_gap,
                ),
                text=self._text,
                text_rows=self.text_rows,
                competing=self._judge.competing_rule() if self._judge is not None else CompetingRule(),
            )
            cascade = Cascade(state, gate, PendingShot(max_bytes=int(self.cascade_buffer_mb * 2**20)))
            decode = LAZY_DECODERS[self.decoder]
            frames = decode(local_media(work), geometry, fps, timeout, self.decode_threads, wanted=cascade.wants)
            cascade.run(frames)
        finally:
            landmarker.close()
        self._assemble(work, geometry, fps, state)
        work.key_frame_hashes = state.key_frame_hashes()
        return work

    def _assemble(self, work: VideoWork, geometry: AnalysisGeometry, fps: float, state: VideoPass) -> None:
        video_id = work.video_id
        n_frames = state.n_frames
        faces_per_frame = [state.faces.get(i, []) for i in range(n_frames)]
        quality = state.quality_grid()
        landmarked = np.zeros(n_frames, dtype=bool)
        landmarked[[i for i in state.faces if i < n_frames]] = True
        crops, text_samples = state.crops, state.text_samples
        duration = work.probed().duration_s or n_frames / fps
        candidates: dict[str, list[FaceCrop]] = {}
        jpegs: dict[str, bytes] = {}
        for shot in state.shots.shots(n_frames):
            shot_id = f"{video_id}-s{shot.index:04d}"
            t_start = shot.first_frame / fps
            t_end = min(duration, shot.end_frame / fps) if shot.end_frame == n_frames else shot.end_frame / fps
            q = state.measured_quality(shot.first_frame, shot.end_frame, quality)
            work.shots.append(
                ShotRow(
                    shot_id=shot_id,
                    video_id=video_id,
                    shot_index=shot.index,
                    t_start=t_start,
                    t_end=t_end,
                    n_frames=shot.end_frame - shot.first_frame,
                    **{name: float(np.mean(q[:, i])) for i, name in enumerate(QUALITY_NAMES) if name != "frozen"},
                    frozen_frac=float(np.mean(q[:, QUALITY_NAMES.index("frozen")])),
                    n_faces_max=max(
                        [len(faces_per_frame[f]) for f in range(shot.first_frame, shot.end_frame)]
                        + [state.coarse_faces_max(shot.first_frame, shot.end_frame)]
                    ),
                    **shot_text_scores(text_samples, shot.first_frame, shot.end_frame),
                    landmarked_frac=float(np.mean(landmarked[shot.first_frame : shot.end_frame])),
                    **state.coarse_summary(shot.first_frame, shot.end_frame),
                )
            )
            tracks = assemble_tracks(
                faces_per_frame,
                shot.first_frame,
                shot.end_frame,
                (geometry.width, geometry.height),
                max(0, round(self.track_max_gap_s * fps)),
            )
            for k, (features, members) in enumerate(tracks):
                track_id = f"{shot_id}-t{k:02d}"
                present_t = [shot.first_frame + i for i in np.flatnonzero(features.present)]
                summary = track_summary(features, geometry.scale, self.frontal_max_yaw, self.frontal_max_pitch)
                work.tracks.append(
                    TrackRow(
                        track_id=track_id,
                        video_id=video_id,
                        shot_id=shot_id,
                        t_start=present_t[0] / fps,
                        t_end=(present_t[-1] + 1) / fps,
                        **summary,
                        text_on_crop_frac=text_on_region_frac(
                            text_samples, self._crop_regions(features, shot.first_frame, geometry, text_samples)
                        ),
                    )
                )
                work.track_features[track_id] = features
                candidates[track_id] = [crops[m][0] for m in members if m in crops]
                for m in members:
                    if m in crops:
                        jpegs.update(crops[m][1])
        work.analysis = AnalysisGrid(
            fps=fps,
            width=geometry.width,
            height=geometry.height,
            scale=geometry.scale,
            n_frames=n_frames,
            quality=quality.astype(np.float16),
        )
        # The JPEGs go to the run store now, written by this worker; the record keeps their names.
        archive = write_blobs(work.run_uri, video_id, "crops", jpegs)
        work.crops = FaceCrops(archive=archive, by_track=candidates)

    def text_rows(self, face_boxes: list[np.ndarray], geometry: AnalysisGeometry) -> tuple[float, float] | None:
        """The rows (top, bottom, fractions of the frame height) the text detector looks at on a
        sampled frame: all of them, or (``performers``) those of every face's crop (None without
        a face: no track there)."""
        if self.text_region == "frame":
            return (0.0, 1.0)
        if not face_boxes:
            return None
        size = np.array([geometry.width, geometry.height] * 2, dtype=np.float64)
        bands = [self._band(tuple(np.asarray(b, np.float64) / size), geometry) for b in face_boxes]
        return min(b[1] for b in bands), max(b[3] for b in bands)

    def _band(self, face_box: Region, geometry: AnalysisGeometry) -> Region:
        """The performer's band of the crop the clip is cut from, as fractions of the frame."""
        width, height = geometry.width, geometry.height
        crop = performer_crop(face_box, width, height, self.text_crop_scale)
        box = (crop.x / width, crop.y / height, (crop.x + crop.side) / width, (crop.y + crop.side) / height)
        return performer_band(box, face_box)

    def _crop_regions(
        self, features: TrackFeatures, first_frame: int, geometry: AnalysisGeometry, text_samples: dict[int, np.ndarray]
    ) -> list[tuple[int, Region]]:
        """(frame index, the performer's band of its crop as fractions of the frame) on the
        OCR-sampled frames showing the face."""
        regions = []
        for i in np.flatnonzero(features.present):
            if first_frame + i in text_samples:
                face_box = tuple(features.face_box[i].astype(float))
                regions.append((first_frame + int(i), self._band(face_box, geometry)))
        return regions
