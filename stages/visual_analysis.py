"""Decode each video once and run every frame-level analyser on that one stream.

Per frame: shot detection and quality on a thumbnail, the FaceLandmarker on the analysis frame,
(every ``small_face_every_s``) a tiled search for faces too small for the landmarker, and (at
``text_overlay_fps``, on frames with a face, over the rows of the performers' crops) the OCR text
detector for burned-in text (``annotators.models.text_box_detector``). After
the pass: shots, per-shot face tracks with float16 per-frame signals, and a few JPEG crops per
second of every face for identity and references. Frames are dropped as soon as they are used.
"""

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import cv2
import numpy as np

from annotators.duplicates.perceptual_hash import phash64
from annotators.face.face_crops import body_crop, face_crop, frame_thumbnail
from annotators.face.face_tracker import box_iou
from annotators.face.small_face_finder import SmallFaceFinder
from annotators.face.track_features import FrameFace, assemble_tracks, track_summary
from annotators.models.face_landmarker import FaceLandmarkerAnnotator, FaceObservation
from annotators.models.text_box_detector import TextBoxDetector
from annotators.shots.frame_quality import QUALITY_NAMES, FrameQualityMeter
from annotators.shots.shot_detector import make_shot_detector
from annotators.shots.text_overlay import Region, performer_band, shot_text_scores, text_on_region_frac
from curation.ingest.local_copy import local_media
from curation.media.clip_encoder import performer_crop
from curation.media.frame_source import AnalysisGeometry
from curation.media.source_frames import DECODERS
from curation.models.model_choice import ModelChoice
from curation.models.model_store import resolve
from curation.run.artefacts import write_blobs
from curation.runtime.products import AnalysisGrid, FaceCrop, FaceCrops, KeyFrameHashes, crop_jpeg_name
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork

THUMB_SHORT_SIDE = 128
SHARPNESS_SHORT_SIDE = 256


@dataclass
class VisualAnalysisStage(Stage):
    name: ClassVar[str] = "visual_analysis"
    needs: ClassVar[tuple[str, ...]] = ("video",)
    adds: ClassVar[tuple[str, ...]] = ("shots", "tracks", "track_features", "analysis", "crops", "key_frame_hashes")
    resources: ClassVar[Resources] = Resources(cpus=1)

    analysis_short_side: int = field(default=512, metadata={"range": (64, 2160)})
    analysis_fps: float = field(default=25.0, metadata={"range": (1, 60)})
    decode_threads: int = field(default=1, metadata={"range": (0, 16)})
    # "ffmpeg": an ffmpeg process scales, converts and pipes every analysis frame; "inprocess": the
    # FFmpeg libraries decode in this process and only the frames taken are converted, no pipe
    # (curation.media.source_frames). The same frames; scaled ones within a grey level (PyAV's
    # own swscale), so "ffmpeg" stays the default until the benchmarks are re-run on the other.
    decoder: Literal["ffmpeg", "inprocess"] = "ffmpeg"
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

    def setup(self) -> None:
        self._model_path = resolve("face_landmarker")
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
        video = work.video
        geometry = AnalysisGeometry.for_source(video["width"], video["height"], self.analysis_short_side)
        fps = self.analysis_fps
        learned = self.shot_detector == "transnetv2"
        threshold = self.transnet_threshold if learned else self.shot_threshold
        detector = make_shot_detector(
            self.shot_detector, threshold, max(1, round(self.min_shot_gap_s * fps)), fps, self._transnet
        )
        quality = FrameQualityMeter()
        quality_rows: list[np.ndarray] = []
        faces_per_frame: list[list[FrameFace]] = []
        crops: dict[tuple[int, int], tuple[FaceCrop, dict[str, bytes]]] = {}
        small_every = max(1, round(self.small_face_every_s * fps))
        small_every_with_face = max(small_every, round(self.small_face_every_with_face_s * fps))
        last_search = -small_every_with_face
        crop_every = max(1, round(fps / self.crops_per_s)) if self.crops_per_s else 0
        hash_every = max(1, round(fps / self.hashes_per_s)) if self.hashes_per_s else 0
        key_frame_hashes = KeyFrameHashes()
        text_every = max(1, round(fps / self.text_overlay_fps)) if self._text is not None else 0
        text_samples: dict[int, np.ndarray] = {}
        timeout = max(120.0, self.timeout_per_video_s * float(video.get("duration_s") or 0))
        finder = SmallFaceFinder(self._model_path) if self.small_faces and self.max_small_faces else None
        followed: list[np.ndarray] = []
        with FaceLandmarkerAnnotator(self._model_path, max_faces=self.max_faces) as landmarker:
            try:
                decode = DECODERS[self.decoder]
                for frame in decode(local_media(work), geometry, fps, timeout, self.decode_threads):
                    # The thumbnail comes from the 256-px image, not the full frame: an INTER_AREA resize
                    # by a non-integer factor near 4 cost 3 ms a frame, halving the 256-px image 0.06 ms.
                    half = resize_short(frame.rgb, SHARPNESS_SHORT_SIDE)
                    thumb = resize_short(half, THUMB_SHORT_SIDE)
                    detector.feed(frame.index, cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR))
                    sharp = cv2.cvtColor(half, cv2.COLOR_RGB2GRAY)
                    quality_rows.append(quality.measure(thumb, sharp))
                    if hash_every and frame.index % hash_every == 0:
                        key_frame_hashes.times.append(frame.t)
                        key_frame_hashes.hashes.append(phash64(thumb))
                    observations = [(o, False) for o in landmarker.detect(frame.rgb, frame.t)]
                    if finder is not None:
                        every = small_every_with_face if observations else small_every
                        search = frame.index - last_search >= every
                        if search:
                            last_search = frame.index
                        followed = self._small_faces(finder, frame.rgb, search, observations, followed)
                    faces_per_frame.append([_frame_face(o, tile) for o, tile in observations])
                    if text_every and frame.index % text_every == 0:
                        rows = self._text_rows([o.box for o, _ in observations], geometry)
                        if rows is not None:
                            text_samples[frame.index] = self._text.boxes(frame.rgb, rows)
                    if crop_every and frame.index % crop_every == 0:
                        for det, (obs, _tile) in enumerate(observations):
                            crops[(frame.index, det)] = _crops(frame.rgb, frame.t, obs, f"{frame.index:06d}-{det}")
            finally:
                if finder is not None:
                    finder.close()
        self._assemble(work, geometry, fps, detector, quality_rows, faces_per_frame, crops, text_samples)
        work.key_frame_hashes = key_frame_hashes
        return work

    def _small_faces(
        self,
        finder: SmallFaceFinder,
        rgb: np.ndarray,
        search: bool,
        observations: list[tuple[FaceObservation, bool]],
        followed: list[np.ndarray],
    ) -> list[np.ndarray]:
        """Follow known small faces on crops; on search frames look for new ones on tiles."""
        known = [o.box for o, _ in observations]
        if search:
            for box in finder.find(rgb):
                if len(followed) < self.max_small_faces and all(box_iou(box, k) < 0.2 for k in known + followed):
                    followed.append(box)
        still = []
        for box in followed:
            if any(box_iou(box, k) >= 0.2 for k in known):
                continue  # the full-frame landmarker has it now
            obs = finder.landmarks_on_crop(rgb, box)
            if obs is not None:
                observations.append((obs, True))
                known.append(obs.box)
                still.append(obs.box)
        return still

    def _assemble(self, work, geometry, fps, detector, quality_rows, faces_per_frame, crops, text_samples) -> None:  # noqa: ANN001
        video_id = work.video_id
        n_frames = len(faces_per_frame)
        quality = np.array(quality_rows, dtype=np.float32).reshape(-1, len(QUALITY_NAMES))
        duration = float(work.video.get("duration_s") or n_frames / fps)
        candidates: dict[str, list[FaceCrop]] = {}
        jpegs: dict[str, bytes] = {}
        for shot in detector.shots():
            shot_id = f"{video_id}-s{shot.index:04d}"
            t_start = shot.first_frame / fps
            t_end = min(duration, shot.end_frame / fps) if shot.end_frame == n_frames else shot.end_frame / fps
            q = quality[shot.first_frame : shot.end_frame]
            work.shots.append(
                {
                    "shot_id": shot_id,
                    "video_id": video_id,
                    "shot_index": shot.index,
                    "t_start": t_start,
                    "t_end": t_end,
                    "n_frames": shot.end_frame - shot.first_frame,
                    **{name: float(np.mean(q[:, i])) for i, name in enumerate(QUALITY_NAMES) if name != "frozen"},
                    "frozen_frac": float(np.mean(q[:, QUALITY_NAMES.index("frozen")])),
                    "n_faces_max": max(
                        (len(faces_per_frame[f]) for f in range(shot.first_frame, shot.end_frame)), default=0
                    ),
                    **shot_text_scores(text_samples, shot.first_frame, shot.end_frame),
                }
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
                present_t = [shot.first_frame + i for i in np.flatnonzero(features["present"])]
                summary = track_summary(features, geometry.scale, self.frontal_max_yaw, self.frontal_max_pitch)
                work.tracks.append(
                    {
                        "track_id": track_id,
                        "video_id": video_id,
                        "shot_id": shot_id,
                        "t_start": present_t[0] / fps,
                        "t_end": (present_t[-1] + 1) / fps,
                        **summary,
                        "text_on_crop_frac": text_on_region_frac(
                            text_samples, self._crop_regions(features, shot.first_frame, geometry, text_samples)
                        ),
                    }
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

    def _text_rows(self, face_boxes: list[np.ndarray], geometry: AnalysisGeometry) -> tuple[float, float] | None:
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
        self, features: dict, first_frame: int, geometry: AnalysisGeometry, text_samples: dict[int, np.ndarray]
    ) -> list[tuple[int, Region]]:
        """(frame index, the performer's band of its crop as fractions of the frame) on the
        OCR-sampled frames showing the face."""
        regions = []
        for i in np.flatnonzero(features["present"]):
            if first_frame + i in text_samples:
                face_box = tuple(features["face_box"][i].astype(float))
                regions.append((first_frame + int(i), self._band(face_box, geometry)))
        return regions


def resize_short(rgb: np.ndarray, short_side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = short_side / min(height, width)
    if scale >= 1:
        return rgb
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    if 2 * short_side == min(height, width) - min(height, width) % 2:
        # Exactly half: crop an odd last row/column so INTER_AREA takes its fast 2x2 path (at a
        # non-integer factor it is several times slower; bilinear would alias and raise the noise
        # and motion measures, whose thresholds were set on area-averaged images).
        size = (width // 2, height // 2)
        rgb = rgb[: size[1] * 2, : size[0] * 2]
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _frame_face(obs: FaceObservation, on_tile: bool) -> FrameFace:
    return FrameFace(obs.box, obs.signals.values, obs.blendshapes, obs.signals.kps5, on_tile)


def _crops(rgb: np.ndarray, t: float, obs: FaceObservation, name: str) -> tuple[FaceCrop, dict[str, bytes]]:
    face_jpg, local_landmarks = face_crop(rgb, obs.box, obs.landmarks)
    crop = FaceCrop(
        t=t,
        name=name,
        face_landmarks=local_landmarks,
        signals=obs.signals.values.astype(np.float16),
        blendshapes=obs.blendshapes.astype(np.float16),
    )
    jpegs = {
        crop_jpeg_name(name, "face"): face_jpg,
        crop_jpeg_name(name, "body"): body_crop(rgb, obs.box),
        crop_jpeg_name(name, "global"): frame_thumbnail(rgb),
    }
    return crop, jpegs
