"""Two copies of one picture with different audio: a dub and its original, not a repeat.

Near-duplicate detection matches pictures. When the matched copies carry the same recording
(``annotators.duplicates.audio_fingerprint``) one is a repeat and dedup drops it. When they carry
different audio, at most one is the picture's own voice, and dropping either on a lip-sync score
would keep the dubbed one whenever it happens to score higher (it did: issue 40, a dubbed twin
scored above the threshold and the original was dropped as its duplicate). So both are kept and
the doubt is written down: the twin whose verdict is lower is flagged (``picture_twin_of`` names
the other copy, and an ``in_sync`` verdict becomes ``uncertain``); when the verdicts are equal
nothing tells which one is dubbed, and both are flagged. Only a verdict, whose thresholds leave a
margin on both sides (``annotators.speaking.sync_thresholds``), ranks the two, never the raw score.
"""

from typing import Protocol

# Lower is better; non-speaking segments (no verdict) rank with uncertain ones.
VERDICT_RANK = {"in_sync": 0, "uncertain": 1, None: 1, "out_of_sync": 2}


def verdict_rank(verdict: str | None) -> int:
    return VERDICT_RANK.get(verdict, 1)


class VerdictOfSegment(Protocol):
    """What the ranking needs of a segment (dedup's summary of one)."""

    @property
    def segment_id(self) -> str: ...

    @property
    def sync_verdict(self) -> str | None: ...


def picture_twin_flags(segment: VerdictOfSegment, twin: VerdictOfSegment) -> list[tuple[str, str]]:
    """(flagged segment id, its twin's id) for two copies of one picture with different audio:
    the one with the lower verdict, or both when the verdicts are equal."""
    a, b = verdict_rank(segment.sync_verdict), verdict_rank(twin.sync_verdict)
    pairs = [(segment.segment_id, twin.segment_id), (twin.segment_id, segment.segment_id)]
    if a == b:
        return pairs
    return [pairs[0]] if a > b else [pairs[1]]
