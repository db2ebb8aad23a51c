"""Visual analysis on real clips: tracks, signals, shots, small faces, rejections."""

import subprocess
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from annotators.face.face_signals import SIGNAL_NAMES, Signal
from curation.media.frame_source import AnalysisGeometry
from curation.store.stored_crops import crop_jpegs
from stages.performer_filter import PerformerFilterStage
from stages.visual_analysis import VisualAnalysisStage, resize_short
from tests.stages.analysis_runner import analyse

TALKING = "talkvid_tys_gt.mp4"
OTHER_TALKING = "fantasy_end0.1.mp4"
NO_FACE = "panda_1IK5fEEVQdY.102.mp4"
# keep the aspect ratio: a squashed face reads as turned away
SQUARE_512 = "scale=512:512:force_original_aspect_ratio=decrease,pad=512:512:(ow-iw)/2:(oh-ih)/2,fps=25"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=120)


def test_talking_head_gives_one_usable_track_with_float16_signals(shared_media, models_dir):
    work = analyse(shared_media / TALKING)
    assert work.state == "kept", (work.reason, work.detail)
    assert len(work.shots) == 1 and work.shots[0].usable
    usable = [t for t in work.tracks if t.usable]
    assert len(usable) == 1
    track = usable[0]
    assert track.coverage >= 0.9
    assert track.face_height_px > 150  # the face fills most of this 512x512 clip
    features = work.track_features[track.track_id]
    n = work.shots[0].n_frames
    assert features.signals.dtype == np.float16 and features.signals.shape == (n, len(SIGNAL_NAMES))
    assert features.blendshapes.shape == (n, 52)
    mouth = features.signals[features.present, Signal.MOUTH_OPEN].astype(np.float32)
    assert mouth.std() > 0.005, "a talking mouth opens and closes"
    dark = features.signals[features.present, Signal.MOUTH_DARK].astype(np.float32)
    assert np.isfinite(dark).all() and dark.std() > 0.01, "the mouth box darkens and brightens as it talks"
    yaw = features.signals[features.present, Signal.YAW].astype(np.float32)
    assert np.abs(np.median(yaw)) < 20, "the speaker faces the camera"
    crops = work.crops.of_track(track.track_id)
    assert len(crops) >= 3  # one per second of a 4 s clip
    # the JPEGs were written to the run store by the worker; the record holds their names
    face = cv2.imdecode(np.frombuffer(crop_jpegs(work, crops[:1], "face")[0], np.uint8), cv2.IMREAD_COLOR)
    assert face.shape == (160, 160, 3)
    assert crops[0].face_landmarks.shape == (478, 3)
    assert work.shots[0].audio_loudness_db > -40  # someone is speaking


def test_clip_without_face_is_rejected_no_face(shared_media, models_dir):
    work = analyse(shared_media / NO_FACE)
    assert work.state == "rejected"
    assert work.reason == "no_face", work.detail
    assert all(not s.usable for s in work.shots)
    assert any(r.entity == "shot" and r.reason == "no_face" for r in work.rejections)


def test_hard_cut_splits_shots_and_tracks_never_cross_it(shared_media, models_dir, tmp_path):
    parts = []
    for i, name in enumerate((TALKING, OTHER_TALKING)):
        part = tmp_path / f"part{i}.mp4"
        _ffmpeg(
            "-i",
            str(shared_media / name),
            "-t",
            "3",
            "-vf",
            SQUARE_512,
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(part),
        )
        parts.append(part)
    joined = tmp_path / "joined.mp4"
    _ffmpeg(
        "-i",
        str(parts[0]),
        "-i",
        str(parts[1]),
        "-filter_complex",
        "[0:v][1:v]concat=n=2:v=1[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        str(joined),
    )
    work = analyse(joined)
    assert len(work.shots) == 2
    assert abs(work.shots[1].t_start - 3.0) <= 1 / 25 + 1e-6
    for track in work.tracks:
        shot = next(s for s in work.shots if s.shot_id == track.shot_id)
        assert shot.t_start - 1e-6 <= track.t_start and track.t_end <= shot.t_end + 1e-6
    assert sum(t.usable for t in work.tracks) == 2  # one performer per shot


@pytest.mark.slow
def test_small_faces_are_found_only_with_tiles(shared_media, models_dir, tmp_path):
    wide = tmp_path / "wide.mp4"
    # The talking head shrunk to 110 px and placed in a 1280x720 frame: a wide shot.
    _ffmpeg(
        "-i",
        str(shared_media / TALKING),
        "-t",
        "3",
        "-vf",
        "scale=110:110,pad=1280:720:900:300:color=gray,fps=25",
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        str(wide),
    )
    without = analyse(wide, VisualAnalysisStage(small_faces=False))
    with_tiles = analyse(wide, VisualAnalysisStage(small_faces=True))
    found_without = max((t.coverage for t in without.tracks), default=0.0)
    found_with = max((t.coverage for t in with_tiles.tracks), default=0.0)
    assert found_without < 0.2, "the full-frame landmarker misses a face this small"
    assert found_with > 0.7
    track = max(with_tiles.tracks, key=lambda t: t.coverage)
    assert track.detected_on_tile
    assert 40 < track.face_height_px < 110  # forehead-to-chin inside a 110 px head crop
    assert 0.65 < track.x_center < 0.8  # the face sits at x = 900..1010 of 1280
    features = with_tiles.track_features[track.track_id]
    dark = features.signals[features.present, Signal.MOUTH_DARK].astype(np.float32)
    assert np.isfinite(dark).all() and dark.std() > 0, "read on the upscaled crop"


def test_small_face_search_is_less_frequent_while_a_face_is_in_view(shared_media, models_dir, monkeypatch):
    import stages.visual_analysis as visual_analysis

    searches: list[tuple[int, ...]] = []

    class CountingFinder(visual_analysis.SmallFaceFinder):
        def find(self, rgb: np.ndarray, tile: int | None = None) -> list[np.ndarray]:
            searches.append(rgb.shape)
            return super().find(rgb, tile)

    monkeypatch.setattr(visual_analysis, "SmallFaceFinder", CountingFinder)
    # beside this close-up's face (over 0.44 of the frame's height) no face could compete: no search
    analyse(shared_media / TALKING, VisualAnalysisStage())
    assert searches == []
    everywhere = {"small_faces_until_face_frac": 1.0}
    slow = analyse(shared_media / TALKING, VisualAnalysisStage(**everywhere))  # every 3 s with the face in view
    slow_searches = len(searches)
    searches.clear()
    fast = analyse(shared_media / TALKING, VisualAnalysisStage(small_face_every_with_face_s=1.0, **everywhere))
    n = fast.analysis.n_frames
    assert slow_searches == len(range(0, n, 75))  # the face is in view from the first frame
    assert len(searches) == len(range(0, n, 25))
    assert [t.usable for t in slow.tracks] == [t.usable for t in fast.tracks] == [True]
    searches.clear()
    no_face = analyse(shared_media / NO_FACE, VisualAnalysisStage())
    assert len(searches) == len(range(0, no_face.analysis.n_frames, 25))


@pytest.mark.parametrize("shape", [(512, 910), (910, 512), (511, 907), (458, 458), (480, 848), (200, 300)])
def test_quality_images_match_one_area_resize(shape):
    """The 256-px image and the 128-px thumbnail halved from it equal what one INTER_AREA resize of
    the analysis frame gives (the quality thresholds were set on those), to within a grey level."""
    rng = np.random.default_rng(0)
    smooth = cv2.GaussianBlur(rng.integers(0, 256, (*shape, 3), dtype=np.uint8), (0, 0), 4)
    half = resize_short(smooth, 256)
    thumb = resize_short(half, 128)
    assert min(half.shape[:2]) == min(256, min(shape))
    assert abs(min(thumb.shape[:2]) - min(128, min(shape))) <= 1
    direct = cv2.resize(smooth, thumb.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(direct.astype(int) - thumb.astype(int)).mean() < 1.0


def test_text_detector_looks_at_the_rows_of_the_faces_crops_only():
    """``text_region=performers``: the rows of every face's crop band, none without a face; the
    whole frame with ``frame``. A portrait frame: the crop of a face is a square of the frame's
    width, so it holds only part of the rows."""
    geometry = AnalysisGeometry.for_source(480, 848, 512)
    stage = VisualAnalysisStage()
    face = np.array([140.0, 200.0, 340.0, 420.0])  # x0, y0, x1, y1 analysis pixels
    top, bottom = stage.text_rows([face], geometry)
    assert 0.1 < top < 200 / 848 and 420 / 848 < bottom < 0.8 and bottom - top == pytest.approx(480 / 848, abs=0.01)
    lower = face + np.array([0.0, 380.0, 0.0, 380.0])
    assert stage.text_rows([face, lower], geometry) == (top, stage.text_rows([lower], geometry)[1])
    assert stage.text_rows([], geometry) is None
    assert VisualAnalysisStage(text_region="frame").text_rows([], geometry) == (0.0, 1.0)


def test_text_detection_runs_on_sampled_frames_with_a_face_only(shared_media, models_dir, monkeypatch):
    import stages.visual_analysis as visual_analysis

    calls: list[tuple[float, float] | None] = []

    class CountingDetector(visual_analysis.TextBoxDetector):
        def boxes(self, rgb: np.ndarray, rows: tuple[float, float] | None = None) -> np.ndarray:
            calls.append(rows)
            return super().boxes(rgb, rows)

    monkeypatch.setattr(visual_analysis, "TextBoxDetector", CountingDetector)
    no_face = analyse(shared_media / NO_FACE, VisualAnalysisStage())
    assert calls == [] and all(s.text_area_frac is None for s in no_face.shots)
    talking = analyse(shared_media / TALKING, VisualAnalysisStage())
    assert len(calls) == len(range(0, talking.analysis.n_frames, 25))  # 1 frame/s, a face on each
    assert all(rows is not None and 0.0 <= rows[0] < rows[1] <= 1.0 for rows in calls)
    assert talking.tracks[0].text_on_crop_frac == 0.0 and talking.shots[0].text_frames_frac == 0.0


def test_the_in_process_decoder_gives_the_same_analysis_where_frames_need_no_scaling(shared_media, models_dir):
    # 480x848 is under the 512-px analysis side: both decoders hand over the same bytes, so every
    # track and signal must come out the same (without the cascade, whose coarse frames are
    # scaled). The quality measures are taken on a 256-px image, scaled by swscale from the
    # decoded planes in process and by OpenCV from the piped frame: within 5 % (noise 3.5 %).
    piped = analyse(shared_media / OTHER_TALKING, VisualAnalysisStage(decoder="ffmpeg", cascade=False))
    inprocess = analyse(shared_media / OTHER_TALKING, VisualAnalysisStage(decoder="inprocess", cascade=False))
    assert (piped.state, piped.reason) == (inprocess.state, inprocess.reason) == ("kept", None)
    assert piped.tracks == inprocess.tracks
    scaled = {"sharpness", "brightness", "contrast", "colorfulness", "noise", "motion", "border_frac", "frozen_frac"}
    for a, b in zip(piped.shots, inprocess.shots, strict=True):
        a_row, b_row = asdict(a), asdict(b)
        unscaled = set(a_row) - scaled
        assert {k: a_row[k] for k in unscaled} == {k: b_row[k] for k in unscaled}
        assert all(b_row[k] == pytest.approx(a_row[k], rel=0.05, abs=0.01) for k in scaled), (a, b)
    for track_id, features in piped.track_features.items():
        assert np.array_equal(features.signals, inprocess.track_features[track_id].signals)


def _square_part(source: Path, seconds: float, out: Path) -> Path:
    encode = ["-an", "-c:v", "libx264", "-preset", "ultrafast"]
    _ffmpeg("-i", str(source), "-t", str(seconds), "-vf", SQUARE_512, *encode, str(out))
    return out


def test_the_cascade_landmarks_the_performer_as_every_frame_does_and_little_else(shared_media, models_dir, tmp_path):
    # a street without a face (the clip lasts 3.4 s), a hard cut, then 3 s of a talking head
    street = _square_part(shared_media / NO_FACE, 4, tmp_path / "street.mp4")
    talker = _square_part(shared_media / TALKING, 3, tmp_path / "talker.mp4")
    joined = tmp_path / "joined.mp4"
    _ffmpeg(
        "-i", str(street), "-i", str(talker), "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]",
        "-c:v", "libx264", "-preset", "ultrafast", str(joined),
    )  # fmt: skip
    cascade = analyse(joined, VisualAnalysisStage())
    every = analyse(joined, VisualAnalysisStage(cascade=False))
    assert cascade.state == every.state == "kept"
    talking, every_talking = cascade.shots[-1], every.shots[-1]
    assert talking.t_start == every_talking.t_start == pytest.approx(3.4, abs=1 / 25 + 1e-6)
    assert talking.landmarked_frac == 1.0 and every_talking.landmarked_frac == 1.0
    kept = [(t.t_start, t.t_end, t.coverage) for t in cascade.tracks if t.usable]
    assert kept == [(t.t_start, t.t_end, t.coverage) for t in every.tracks if t.usable]
    # the street: landmarked at most for the second before the coarse frame that found the face
    street_shots = [s for s in cascade.shots if s.t_end <= talking.t_start]
    landmarked_s = sum(s.landmarked_frac * (s.t_end - s.t_start) for s in street_shots)
    assert landmarked_s <= 1.0 + 1e-6
    assert {s.reason for s in street_shots} <= {"no_face", "shot_too_short", "low_quality"}
    assert cascade.analysis.n_frames == every.analysis.n_frames


def test_without_a_face_only_the_coarse_frames_are_looked_at(shared_media, models_dir, monkeypatch):
    import stages.visual_analysis as visual_analysis

    landmarked: list[float] = []

    class CountingLandmarker(visual_analysis.FaceLandmarkerAnnotator):
        def detect(self, rgb: np.ndarray, t_seconds: float = 0.0) -> list:
            landmarked.append(t_seconds)
            return super().detect(rgb, t_seconds)

    monkeypatch.setattr(visual_analysis, "FaceLandmarkerAnnotator", CountingLandmarker)
    work = analyse(shared_media / NO_FACE, VisualAnalysisStage())
    assert work.reason == "no_face"
    assert landmarked == [] and all(s.landmarked_frac == 0.0 for s in work.shots)
    assert all(s.coarse_face_frac == 0.0 and s.coarse_face_px is None for s in work.shots)
    # quality is measured on the coarse frames and carried to the frames between them
    quality = work.analysis.quality.astype(np.float32)
    assert quality.shape[0] == work.analysis.n_frames and np.isfinite(quality).all()
    assert np.array_equal(quality[1], quality[0]) and not np.array_equal(quality[5], quality[0])


def _judged(**settings: object) -> tuple[VisualAnalysisStage, PerformerFilterStage]:
    """The analysis and the performer filter of one workflow: the cascade asks the filter."""
    visual, judge = VisualAnalysisStage(**settings), PerformerFilterStage()  # type: ignore[arg-type]
    visual.bind([visual, judge])
    return visual, judge


def test_a_shot_with_two_comparable_faces_is_judged_without_landmarking_it(shared_media, models_dir, tmp_path):
    # two people facing each other (multi_face), a hard cut, then 3 s of a talking head
    pair = _square_part(shared_media / "panda_it8sFJe038g.7.mp4", 4, tmp_path / "pair.mp4")
    talker = _square_part(shared_media / TALKING, 3, tmp_path / "talker.mp4")
    joined = tmp_path / "joined.mp4"
    _ffmpeg(
        "-i", str(pair), "-i", str(talker), "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]",
        "-c:v", "libx264", "-preset", "ultrafast", str(joined),
    )  # fmt: skip
    judged = analyse(joined, *_judged())
    every_shot = analyse(joined, *_judged(cascade_judges_shots=False))
    pair_shot, talking = judged.shots[0], judged.shots[-1]
    # landmarked at most in the coarse step before the cut, where the talking head may begin
    assert pair_shot.landmarked_frac * pair_shot.n_frames <= 5 and every_shot.shots[0].landmarked_frac > 0.8
    assert pair_shot.reason == every_shot.shots[0].reason == "multiple_faces"
    detail = next(r.detail for r in judged.rejections if r.entity_id == pair_shot.shot_id)
    assert detail.endswith("(face detector; not landmarked)")
    assert pair_shot.coarse_competing_frac > 0.5 and pair_shot.coarse_face_frac > 0.9
    # the talking head: landmarked from its first frame, the same performer as without the judge
    assert talking.landmarked_frac == 1.0 and talking.usable
    kept = [(t.t_start, t.t_end, t.coverage) for t in judged.tracks if t.usable]
    assert kept == [(t.t_start, t.t_end, t.coverage) for t in every_shot.tracks if t.usable]


def test_a_long_pending_shot_is_decided_when_its_held_frames_fill_their_bound(shared_media, models_dir, monkeypatch):
    import stages.visual_analysis.cascade as cascade

    held: list[int] = []
    weigh = cascade.Cascade._weigh

    def counting(self: cascade.Cascade, frame, look) -> None:  # type: ignore[no-untyped-def]
        held.append(self._held_bytes())
        weigh(self, frame, look)

    monkeypatch.setattr(cascade.Cascade, "_weigh", counting)
    # 12 s of two faces in one shot: never good enough to turn fine early, held until the bound
    work = analyse(shared_media / "panda_it8sFJe038g.7.mp4", *_judged(cascade_buffer_mb=16))
    assert work.shots[0].landmarked_frac == 0.0 and work.shots[0].reason == "multiple_faces"
    bound = 16 * 2**20
    # checked on every coarse frame: at most one coarse step (5 frames of 640x360 planes, and the
    # 256-px pictures of the coarse frame and the one before it) past the bound
    step_bytes = 5 * 640 * 360 * 3 // 2 + 2 * 455 * 256 * 3
    assert max(held) < bound + 1.5 * step_bytes
    assert max(held) > bound / 2


def test_motion_the_coarse_detector_takes_for_a_cut_does_not_split_a_pending_shot(shared_media, models_dir):
    # A workout (face_other) that landmarking every frame finds one shot. Five frames apart, arms
    # curling dumbbells at 10.4 s pass for a cut while the shot is pending (the face in place);
    # settled there, the part before was judged alone (face_not_frontal) and dropped, and the rest
    # was kept as a usable shot of its own.
    judged = analyse(shared_media / "panda_MJao9o7ROs0.1.mp4", *_judged())
    every = analyse(shared_media / "panda_MJao9o7ROs0.1.mp4", *_judged(cascade=False))
    shots = [(s.t_start, s.t_end, s.reason) for s in judged.shots]
    assert shots == [(s.t_start, s.t_end, s.reason) for s in every.shots] == [(0.0, 19.96, "face_coverage_low")]
    assert judged.state == every.state == "rejected"
