"""Where a genuine talking head's voiced frames went when a trainer is not given them as speaking.

``bench validity``'s first figure is the share of genuine voiced frames kept as speaking. Below the
target, what matters is why the rest was lost, since the remedies differ: a rule that rejects the
picture is right or wrong by looking, a lip-sync verdict by the held-out curves, a labeller by its
states. Each lost voiced frame gets one cause:

- the whole clip: the rule that gave a trainer none of its speech (``speech_kept.rejection_cause``);
- ``states: out_of_sync (some of its speaking segments)``: voiced speaking frames of a speaking
  segment judged ``out_of_sync`` (a clip whose every segment was is lost whole, as above);
- ``speaking, in no speaking segment``: labelled speaking, but in a span shorter than the minimum
  segment or inside a segment whose dominant state is another;
- ``labelled listening or idle``: the face is present and the labeller did not call it speaking;
- ``face not found``: a frame of a usable track in which the face tracker lost the face (a turned
  head, the face leaving the frame);
- ``no usable track``: voiced frames no usable track covers (shots or tracks the picture rules
  rejected: their reasons are listed beside).

Where two usable tracks share a frame the first one listed decides its cause.
"""

from collections import Counter

import numpy as np

from annotators.speaking.sync_thresholds import SyncThresholds
from apps.bench.validity_records import ClipRecord, SpeakingSegment
from schemas.performer_states import PerformerState, frame_state_codes

VERDICT = "states: out_of_sync (some of its speaking segments)"
SHORT = "speaking, in no speaking segment"
NOT_SPEAKING = "labelled listening or idle"
FACE_NOT_FOUND = "face not found"
NO_USABLE_TRACK = "no usable track"


def lost_speech(
    record: ClipRecord, thresholds: SyncThresholds, vad_threshold: float, held_out: bool, whole_cause: str | None
) -> Counter[str]:
    """Lost voiced frames of ``record`` by cause (see the module docstring); ``whole_cause``: the
    cause of a clip that gave no speech at all (None: it gave some)."""
    lost = record.voiced - sum(s.weight for s in record.segments if s.kept_by(thresholds, held_out))
    if lost <= 0:
        return Counter()
    if whole_cause is not None:
        return Counter({whole_cause: lost})
    causes: Counter[str] = Counter()
    causes[VERDICT] = sum(s.weight for s in record.segments if not s.kept_by(thresholds, held_out))
    in_segment = _frames_of(record.segments)
    seen: set[int] = set()
    letters = {t.track_id: t.frame_states or "" for t in record.tracks}
    for track in record.signals:
        codes = frame_state_codes(letters.get(track.track_id, ""))
        for i in np.flatnonzero(np.nan_to_num(track.vad) >= vad_threshold):
            frame = track.first + int(i)
            if frame in seen:
                continue
            seen.add(frame)
            code = codes[i] if i < len(codes) else None
            if not track.present[i] or code is None:
                causes[FACE_NOT_FOUND] += 1
            elif code != PerformerState.SPEAKING:
                causes[NOT_SPEAKING] += 1
            elif frame not in in_segment:
                causes[SHORT] += 1
    rest = lost - sum(causes.values())
    if rest > 0:
        causes[_no_usable_track(record)] += rest
    return +causes


def _frames_of(segments: list[SpeakingSegment]) -> set[int]:
    return {f for s in segments for f in range(s.first, s.end)}


def _no_usable_track(record: ClipRecord) -> str:
    """``no usable track`` with the commonest reason the picture rules gave its shots or tracks."""
    reasons = Counter(str(x.reason) for x in [*record.shots, *record.tracks] if not x.usable and x.reason)
    return f"{NO_USABLE_TRACK} ({reasons.most_common(1)[0][0]})" if reasons else NO_USABLE_TRACK
