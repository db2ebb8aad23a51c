"""The analysis cascade's frame loop: which pass each decoded frame gets, and when (issue 17).

Frames arrive one at a time from the single decode. While no shot is pending only the last
``lookback`` frames are held (unconverted); the coarse pass looks at every ``coarse_every``-th.
A coarse frame with a performer-sized face makes its shot pending (``annotators.face.
landmark_gate``): from then on every frame is held until the gate decides the shot, on the coarse
evidence gathered meanwhile: turn fine (landmark every held frame, then every frame until the
fine pass closes), or skip (drop the held frames; the shot is judged on that evidence). A shot is
decided early once its evidence passes the performer filter's thresholds, or when it ends: at the
cut the coarse shot detector finds (unless that cut would skip it and was motion: the same face in
place and no cut at full rate, ``_cut_stands``), at the video's end, or when the held frames reach
their memory bound. A fine pass closes ``hold`` frames after the last performer-sized face, and the
coarse pass resumes in a new evidence window.
"""

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from annotators.face.face_tracker import box_iou
from annotators.face.landmark_gate import LandmarkGate, PendingShot
from curation.media.source_frames import LazyFrame
from stages.visual_analysis.video_pass import CoarseLook, VideoPass

# A performer's face box on two coarse frames 0.2 s apart: 0.77-0.88 through a head turn or a
# gesture on the clips whose coarse "cut" was motion (VASP ID13/ID17/ID18, an LRS3 clip, a panda
# workout); at a real change of framing the face moves or goes.
SAME_FACE_IOU = 0.5


@dataclass
class Cascade:
    video: VideoPass
    gate: LandmarkGate
    pending: PendingShot
    held: deque[LazyFrame] = field(default_factory=deque)

    def run(self, frames: Iterable[LazyFrame]) -> None:
        video, gate, pending = self.video, self.gate, self.pending
        video.start_span(0)
        for frame in frames:
            video.n_frames = frame.index + 1
            if gate.fine and self._fine(frame):
                continue
            self.held.append(frame)
            look = video.coarse(frame, self.held[-2] if len(self.held) > 1 else None)
            if look.cut and not self._end_shot(frame):
                continue  # the pending shot turned fine and goes on through this frame
            if look.coarse and not gate.skipping:
                self._weigh(frame, look)
            if not pending.active:
                while len(self.held) > gate.lookback:
                    self.held.popleft()
        if pending.active and not gate.fine:
            self._settle(video.n_frames)

    def wants(self, index: int) -> bool:
        """Whether analysis frame ``index`` must be decoded as it is (asked by the decoder ahead of
        the loop): every frame while a shot is pending or landmarked, or when the shot detector
        needs them all; otherwise the coarse frames and the frame before each (its motion). The
        others, held for the look-back only, may show the frame before them: the codec skips what
        it can of them (a third of its time on the 57 no-face clips)."""
        if self.gate.fine or self.pending.active or self.video.shots.every_frame:
            return True
        step = self.gate.coarse_every
        return index % step in (0, step - 1)

    def _fine(self, frame: LazyFrame) -> bool:
        """The fine pass on ``frame``; False when its shot detector finds a cut there: the fine pass
        ends and the new shot is looked at coarsely, as any shot is, from this frame."""
        if self.video.fine(frame, stop_at_cut=not self.gate.always_fine):
            if self.gate.closes_after(frame.index):
                self.video.start_span(frame.index + 1)
                self.pending.evidence_from = frame.index + 1
            return True
        self.gate.close()
        self.video.start_span(frame.index, at_cut=True)
        self.gate.new_shot()
        self.pending.evidence_from = frame.index
        return False

    def _end_shot(self, frame: LazyFrame) -> bool:
        """The coarse shot detector found a cut at ``frame``: decide the pending shot before it.
        False when that shot turns fine: the fine pass takes this frame too, its own detector
        telling whether the cut is real (at 5 frames a second, fast motion can look like a cut)."""
        if self.pending.active:
            self.held.pop()
            fine = self._decided_fine(frame.index)
            if not fine and not self._cut_stands(frame):
                # Settled here, the shot's frames so far would be dropped while the shot goes on
                # (as the fine pass would have found): a performer turning towards the camera in
                # a close-up moves enough in a coarse step to look like a cut, and would be
                # tracked only from the frame after it.
                self.held.append(frame)
                self.video.shots.overrule(frame.index)
                return True
            if fine:
                self._landmark_held(frame.index)
            else:
                self._drop_held()
            self.held.append(frame)
            if fine:
                self.gate.open(frame.index - 1)
                if self._fine(frame):
                    self.held.clear()
                    return False
                self.held.clear()
                self.held.append(frame)
                self.video.refeed(frame)  # the span started at the cut begins with this frame
                return True
        self.gate.new_shot()
        self.pending.evidence_from = frame.index
        return True

    def _weigh(self, frame: LazyFrame, look: CoarseLook) -> None:
        """A coarse frame of a shot not yet decided: pending from its first performer-sized face,
        then fine as soon as the evidence passes, or decided when the held frames fill their bound."""
        pending, gate = self.pending, self.gate
        if look.candidate and not pending.active:
            # From the look-back, but not from before the shot: a cut found at a coarse frame lies
            # somewhere in the coarse step before it, so the fine pass starts at the coarse frame
            # before, whose detector then finds the cut itself (a span cannot report its own first
            # frame as a cut).
            shot_start = pending.evidence_from - gate.coarse_every
            pending.begin(max(self.held[0].index, shot_start))
        if not pending.active:
            return
        evidence, coarse_frames = self.video.evidence(pending.evidence_from, frame.index + 1, ended=False)
        decision = gate.decide(evidence, coarse_frames, ended=False)
        if decision == "wait" and pending.full(self._held_bytes()):
            # Decided on the shot so far: it goes on, fine or judged on its coarse evidence.
            decision = gate.decide(evidence, coarse_frames, ended=True)
            if decision == "skip":
                self._drop_held()
                gate.skip_shot()
                return
        if decision == "fine":
            self._landmark_held(frame.index + 1)
            gate.open(frame.index)

    def _settle(self, end: int) -> None:
        """Decide the pending shot, which ended before frame ``end``: landmark or drop its frames."""
        if self._decided_fine(end):
            self._landmark_held(end)
        else:
            self._drop_held()

    def _decided_fine(self, end: int) -> bool:
        """Whether the pending shot, ending before frame ``end``, is landmarked (else skipped)."""
        evidence, coarse_frames = self.video.evidence(self.pending.evidence_from, end, ended=True)
        return self.gate.decide(evidence, coarse_frames, ended=True) == "fine"

    def _cut_stands(self, frame: LazyFrame) -> bool:
        """Whether the cut the coarse detector found at ``frame`` ends the pending shot. The coarse
        detector compares frames a step apart with the fine pass's threshold, so fast motion there
        can pass for a cut. It is overruled only where both say it was motion: the same face in
        place on the coarse frames either side (boxes overlapping by ``SAME_FACE_IOU``; a dissolve
        to another framing moves it) and no cut for a fresh detector fed every frame of the step
        (all held while a shot is pending)."""
        step = self.gate.coarse_every
        frames = [f for f in self.held if f.index >= frame.index - step] + [frame]
        if self.video.shots.every_frame or step == 1 or len(frames) != step + 1:
            return True  # the coarse detector saw every frame, or the step is not all held
        before = self.video.coarse_faces.get(frame.index - step, [])
        after = self.video.coarse_faces.get(frame.index, [])
        if not any(box_iou(a.box, b.box) >= SAME_FACE_IOU for a in before for b in after):
            return True
        return self.video.cut_at_full_rate(frames)

    def _landmark_held(self, end: int) -> None:
        """The fine pass over the held frames before ``end``, from the first held for the shot."""
        first = self.pending.first
        self.video.start_span(first)
        while self.held and self.held[0].index < end:
            frame = self.held.popleft()
            if frame.index >= first:
                self.video.fine(frame)
        self.pending.end()

    def _drop_held(self) -> None:
        """The pending shot is skipped: keep only the look-back for whatever comes next."""
        while len(self.held) > self.gate.lookback:
            self.held.popleft()
        self.pending.end()

    def _held_bytes(self) -> int:
        pictures = {id(f.picture): f.nbytes for f in self.held}
        return sum(pictures.values())
