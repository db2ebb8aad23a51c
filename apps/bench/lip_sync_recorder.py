"""What the states stage asks its lip-sync model, kept: each speaking segment's MouthTrack, audio and score.

The recorder takes the lip-sync model's place inside the states stage's labeller, the one point
where the pipeline hands over a segment's MouthTrack and audio (no second face pipeline), and
answers with the wrapped model's own score, so the pipeline runs as it would without it.
``sync_corpus_features`` caches what it kept to train the learned networks on; ``held_out_sync``
scores it again with networks that never saw the clip's source.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from annotators.face.mouth_track import MouthTrack
from annotators.speaking.lip_sync import LipSyncModel
from curation.runtime.stage import Stage

Call = tuple[MouthTrack, np.ndarray, float]  # a segment's mouth, the audio it was scored under, the score


@dataclass
class LipSyncRecorder:
    """The wrapped lip-sync model, unchanged for the pipeline, that also keeps every call."""

    inner: LipSyncModel
    calls: list[Call] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        # name, threshold, accept_threshold, ...: the wrapped model's (only reached for what the recorder lacks;
        # "inner" itself is missing only on a half-built copy, where looking it up again would never end)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def sync_score(self, mouth: MouthTrack, audio: np.ndarray) -> float:
        score = self.inner.sync_score(mouth, audio)
        self.calls.append((mouth, audio, score))
        return score

    def take(self) -> list[Call]:
        """The calls since the last take (one clip's)."""
        calls, self.calls = self.calls, []
        return calls


def install_recorder(stages: Sequence[Stage]) -> LipSyncRecorder:
    """A recorder around the states stage's lip-sync model, in its place in the labeller."""
    labeller = stages[-1]._labeller
    recorder = LipSyncRecorder(labeller._lip_sync)
    labeller._lip_sync = recorder
    return recorder


def latest_calls(calls: list[Call]) -> dict[tuple[int, int], Call]:
    """(first frame, frames) of each segment -> its last call: a relabelled video (voice-face
    association) asks again, and the last call per segment counts."""
    return {(mouth.first_frame, len(mouth.mouth_open)): (mouth, audio, score) for mouth, audio, score in calls}
