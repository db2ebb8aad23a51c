"""Decide which shots have a usable performer, and reject the rest with a reason.

A shot is usable when one face track dominates it: big enough, present long enough, frontal
enough, no other face of comparable size, and no burned-in text over the performer's crop
(subtitles, captions). Two similar faces side by side, one in each half of the frame, are a
split screen: both are performers. Scores stay in the manifests, so the
thresholds here can be re-tuned by query without re-running the analysis.

A shot the analysis cascade did not landmark has no tracks; it is judged on its coarse evidence
(``annotators.face.coarse_evidence``: the faces confirmed on a few frames a second) by the same
thresholds in the same order, with "(face detector; not landmarked)" in the detail. The cascade
asks the same question while a shot is going (``coarse_verdict`` with a ``margin``), and skips
landmarking a shot only when it fails by that margin.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from annotators.face.coarse_evidence import CompetingRule, side_by_side
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from schemas.reasons import Reason
from schemas.tables import ShotRow, TrackRow


@dataclass
class PerformerFilterStage(Stage):
    name: ClassVar[str] = "performer_filter"
    needs: ClassVar[tuple[str, ...]] = ("analysis",)
    adds: ClassVar[tuple[str, ...]] = ("shots.usable", "tracks.usable")
    resources: ClassVar[Resources] = Resources(cpus=0.25)

    min_shot_s: float = field(default=1.0, metadata={"range": (0, None)})
    min_sharpness: float = field(default=15.0, metadata={"range": (0, None)})
    min_brightness: float = field(default=25.0, metadata={"range": (0, 255)})
    max_brightness: float = field(default=235.0, metadata={"range": (0, 255)})
    max_border_frac: float = field(default=0.5, metadata={"range": (0, 1)})
    max_frozen_frac: float = field(default=0.8, metadata={"range": (0, 1)})
    # Measured: real talking heads 1.0-2.3, the synthetic noisy shot 3.45 (docs/defaults.md).
    max_noise: float = field(default=3.0, metadata={"range": (0, None)})
    # Tracks shorter or sparser than this are detector noise, not faces in the shot.
    min_track_s: float = field(default=0.4, metadata={"range": (0, None)})
    min_track_coverage: float = field(default=0.1, metadata={"range": (0, 1)})
    min_face_px: float = field(default=64.0, metadata={"range": (0, None)})
    min_coverage: float = field(default=0.5, metadata={"range": (0, 1)})
    min_frontal_frac: float = field(default=0.5, metadata={"range": (0, 1)})
    # Another face counts as competing when it is at least this fraction of the performer's height.
    competing_face_rel: float = field(default=0.5, metadata={"range": (0, 10)})
    max_competing_faces: int = field(default=0, metadata={"range": (0, None)})
    split_screen: bool = True
    # Burned-in text over the performer's crop (annotators.models.text_overlay) in more than this share
    # of the OCR-sampled frames: subtitles follow the speech, so a subtitled shot has text in most.
    max_text_on_crop_frac: float = field(default=0.5, metadata={"range": (0, 1)})

    def process(self, work: VideoWork) -> VideoWork:
        fps = work.analysis.fps
        tracks_by_shot: dict[str, list[TrackRow]] = {}
        for track in work.tracks:
            if track.usable is None:
                track.usable = False
            tracks_by_shot.setdefault(track.shot_id, []).append(track)
        for shot in work.shots:
            tracks = tracks_by_shot.get(shot.shot_id, [])
            reason, detail, performers = self.judge(shot, tracks, fps)
            shot.usable = reason is None
            shot.reason = str(reason) if reason else None
            shot.performer_track_id = ",".join(t.track_id for t in performers) or None
            if reason:
                work.reject_entity("shot", shot.shot_id, self.name, reason, detail, shot.t_start, shot.t_end)
            for track in tracks:
                track.usable = reason is None and track in performers
                if not track.usable:
                    track_reason = reason or Reason.NOT_PERFORMER
                    track.reason = str(track_reason)
                    why = f"shot {shot.shot_id} rejected: {detail}" if reason else "another track is the performer"
                    work.reject_entity(
                        "track", track.track_id, self.name, track_reason, why, track.t_start, track.t_end
                    )
        if not any(s.usable for s in work.shots):
            work.reject(self.name, *self._video_reason(work.shots))
        return work

    def judge(self, shot: ShotRow, tracks: list[TrackRow], fps: float) -> tuple[Reason | None, str, list[TrackRow]]:
        """Why the shot holds no usable performer (None: it does), the detail, and its performer tracks.
        Reads the shot and track rows only, so a stored run can be judged again at other thresholds."""
        duration = shot.t_end - shot.t_start
        if duration < self.min_shot_s:
            return Reason.SHOT_TOO_SHORT, f"{duration:.2f} s < min_shot_s={self.min_shot_s}", []
        quality = self._quality_problem(shot)
        if quality:
            return Reason.LOW_QUALITY, quality, []
        faces = self.faces(tracks, fps)
        if not faces:
            coarse = self.coarse_verdict(shot) if (shot.landmarked_frac or 0.0) < 1.0 else None
            if coarse:
                return Reason(coarse[0]), coarse[1], []
            return Reason.NO_FACE, f"no face track of at least {self.min_track_s} s in the shot", []
        main = faces[0]
        performers = [main]
        others = [t for t in faces[1:] if t.face_height_px >= self.competing_face_rel * main.face_height_px]
        if self.split_screen and len(others) == 1 and _side_by_side(main, others[0]):
            performers.append(others[0])
            others = []
        for track in performers:
            if track.face_height_px < self.min_face_px:
                return (
                    Reason.FACE_TOO_SMALL,
                    f"face {track.face_height_px:.0f} px < min_face_px={self.min_face_px:g}",
                    [],
                )
            if track.coverage < self.min_coverage:
                return (
                    Reason.FACE_COVERAGE_LOW,
                    f"face in {track.coverage:.0%} of the shot < {self.min_coverage:.0%}",
                    [],
                )
            if track.frontal_frac < self.min_frontal_frac:
                return (
                    Reason.FACE_NOT_FRONTAL,
                    f"frontal in {track.frontal_frac:.0%} of frames < {self.min_frontal_frac:.0%}",
                    [],
                )
        if len(others) > self.max_competing_faces:
            return Reason.MULTIPLE_FACES, f"{len(others) + 1} faces of comparable size", []
        texts = [t.text_on_crop_frac for t in performers if t.text_on_crop_frac is not None]
        shot.text_on_crop_frac = max(texts, default=None)
        if texts and max(texts) > self.max_text_on_crop_frac:
            return (
                Reason.TEXT_OVERLAY,
                f"text over the performer's crop in {max(texts):.0%} of sampled frames"
                f" > {self.max_text_on_crop_frac:.0%}",
                [],
            )
        return None, "", performers

    def faces(self, tracks: list[TrackRow], fps: float) -> list[TrackRow]:
        """The tracks long and dense enough to be faces in the shot, the likeliest performer first."""
        faces = [
            t for t in tracks if t.n_frames / fps >= self.min_track_s and t.coverage >= self.min_track_coverage
        ]
        return sorted(faces, key=lambda t: (-t.coverage * t.face_height_px, t.track_id))

    def competing_rule(self) -> CompetingRule:
        return CompetingRule(self.competing_face_rel, self.split_screen)

    def coarse_verdict(self, shot: ShotRow, margin: float = 0.0) -> tuple[str, str] | None:
        """The reason a shot cannot hold a performer by its coarse evidence (the ``coarse_*`` fields;
        the quality means; its length when ``t_start`` and ``t_end`` are set), or None. Checked in
        the order tracks are: length, quality, a face at all, its size, coverage, frontality, a
        competing face. ``margin`` moves every threshold that much in the shot's favour (shares by
        that much, sizes, lengths and quality measures by that fraction of themselves): the analysis
        cascade skips a shot only when it fails by a margin, and what fails with one fails without."""
        m = margin
        duration = shot.t_end - shot.t_start if shot.t_end is not None and shot.t_start is not None else None
        if duration is not None and duration < self.min_shot_s * (1 - m):
            return Reason.SHOT_TOO_SHORT, f"{duration:.2f} s < min_shot_s={self.min_shot_s}"
        quality = self._quality_problem(shot, m)
        if quality:
            return Reason.LOW_QUALITY, quality
        where = "(face detector; not landmarked)"
        height, frac = shot.coarse_face_px, shot.coarse_face_frac or 0.0
        seen_s = frac * duration if duration is not None else None
        if (
            height is None
            or frac < self.min_track_coverage * (1 - m)
            or (seen_s is not None and seen_s < self.min_track_s * (1 - m))
        ):
            return Reason.NO_FACE, f"no face track of at least {self.min_track_s} s in the shot"
        if height < self.min_face_px * (1 - m):
            return Reason.FACE_TOO_SMALL, f"face {height:.0f} px < min_face_px={self.min_face_px:g} {where}"
        if frac < self.min_coverage - m:
            return Reason.FACE_COVERAGE_LOW, f"face in {frac:.0%} of the shot < {self.min_coverage:.0%} {where}"
        frontal = shot.coarse_frontal_frac
        if frontal is not None and frontal < self.min_frontal_frac - m:
            return Reason.FACE_NOT_FRONTAL, f"frontal in {frontal:.0%} of frames < {self.min_frontal_frac:.0%} {where}"
        competing = shot.coarse_competing_frac or 0.0
        competing_s = competing * duration if duration is not None else None
        if competing >= self.min_track_coverage + m and (competing_s is None or competing_s >= self.min_track_s):
            return (
                Reason.MULTIPLE_FACES,
                f"a face of comparable size beside the largest in {competing:.0%} of frames {where}",
            )
        return None

    def _quality_problem(self, shot: ShotRow, margin: float = 0.0) -> str:
        low, high = 1 - margin, 1 + margin
        noise = shot.noise if shot.noise is not None else 0.0  # rows stored before it was measured
        checks = [
            (
                shot.sharpness < self.min_sharpness * low,
                f"sharpness {shot.sharpness:.1f} < {self.min_sharpness:g}",
            ),
            (
                shot.brightness < self.min_brightness * low,
                f"brightness {shot.brightness:.0f} < {self.min_brightness:g}",
            ),
            (
                shot.brightness > self.max_brightness * high,
                f"brightness {shot.brightness:.0f} > {self.max_brightness:g}",
            ),
            (
                shot.border_frac > self.max_border_frac + margin,
                f"black borders {shot.border_frac:.0%} > {self.max_border_frac:.0%}",
            ),
            (
                shot.frozen_frac > self.max_frozen_frac + margin,
                f"frozen frames {shot.frozen_frac:.0%} > {self.max_frozen_frac:.0%}",
            ),
            (
                noise > self.max_noise * high,
                f"image noise {noise:.1f} > {self.max_noise:g} grey levels",
            ),
        ]
        return "; ".join(text for failed, text in checks if failed)

    @staticmethod
    def _video_reason(shots: list[ShotRow]) -> tuple[Reason, str]:
        if not shots:
            return Reason.NO_USABLE_SHOT, "no frames could be analysed"
        weight: Counter[str] = Counter()
        for shot in shots:
            weight[shot.reason] += shot.t_end - shot.t_start
        # shot_too_short only decides when nothing else was found
        ranked = [r for r, _ in weight.most_common() if r != Reason.SHOT_TOO_SHORT] or [Reason.SHOT_TOO_SHORT]
        summary = ", ".join(f"{r} {w:.1f} s" for r, w in weight.most_common())
        return Reason(ranked[0]), f"no usable shot among {len(shots)} ({summary})"


def _side_by_side(a: TrackRow, b: TrackRow) -> bool:
    return side_by_side(a.face_height_px, a.x_center, b.face_height_px, b.x_center)
