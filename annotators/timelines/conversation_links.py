"""How a speaking segment and a listening segment of another person relate in time.

``same_span``: they share at least ``min_overlap_s`` (a two-shot, a split screen, or two cameras
of one conversation); ``following``/``preceding``: the listening starts within ``max_gap_s`` after
the speaking ends, or ends within it before the speaking starts (shot/reverse-shot editing, where
the camera cuts to the listener while the voice goes on). Segments of two recordings are compared
on one clock: the listener's times minus ``offset_s`` (its recording's time minus the speaker's,
for one moment; 0 within a video). Used by ``stages.pairs`` (within a video) and
``stages.cross_video_pairs`` (across the recordings of one conversation).
"""

from typing import NamedTuple

from schemas.tables import SegmentRow

RELATION_RANK = {"same_span": 0, "following": 1, "preceding": 2}


class SegmentLink(NamedTuple):
    relation: str  # same_span | following | preceding
    amount: float  # shared seconds (same_span) or the gap (following/preceding)
    speaker: SegmentRow


def segment_link(
    speaker: SegmentRow, listener: SegmentRow, min_overlap_s: float, max_gap_s: float, offset_s: float = 0.0
) -> SegmentLink | None:
    """How ``listener`` relates to ``speaker``, or None; never a person with themselves (same
    track, or same identity when both are known)."""
    if speaker.track_id == listener.track_id:
        return None
    if speaker.identity_id and speaker.identity_id == listener.identity_id:
        return None
    listen_start, listen_end = listener.t_start - offset_s, listener.t_end - offset_s
    overlap = min(speaker.t_end, listen_end) - max(speaker.t_start, listen_start)
    if overlap >= min_overlap_s:
        return SegmentLink("same_span", overlap, speaker)
    if 0 <= listen_start - speaker.t_end <= max_gap_s:
        return SegmentLink("following", listen_start - speaker.t_end, speaker)
    if 0 <= speaker.t_start - listen_end <= max_gap_s:
        return SegmentLink("preceding", speaker.t_start - listen_end, speaker)
    return None


def best_link(links: list[SegmentLink]) -> SegmentLink:
    """The link a listening segment reacts to: the largest overlap, else the smallest gap."""
    return min(links, key=lambda link: (RELATION_RANK[link.relation],
                                         -link.amount if link.relation == "same_span" else link.amount))
