"""Link speaking and listening segments of different people into conversation pairs.

A listening segment is paired with every speaking segment of another track that shares its time
(``same_span``: a two-shot or split screen) or ends/starts within ``max_gap_s`` of it
(``following``/``preceding``: shot/reverse-shot editing, where the camera cuts to the listener
while the voice goes on). Its ``partner_segment_id`` is the best of those: the largest overlap,
else the smallest gap. When identities are known, a person is never paired with themselves. A
monologue has no listening segments and so no pairs; nothing is invented. The relations are
``annotators.timelines.conversation_links``; pairs across the recordings of one conversation are
``stages.cross_video_pairs``.
"""

from dataclasses import dataclass, field
from typing import ClassVar

from annotators.timelines.conversation_links import best_link, segment_link
from curation.runtime.resources import Resources
from curation.runtime.stage import Stage
from curation.runtime.video_work import VideoWork
from schemas.speech_rows import SpeakerTurn
from schemas.tables import PairRow, SegmentRow


@dataclass
class PairsStage(Stage):
    name: ClassVar[str] = "pairs"
    needs: ClassVar[tuple[str, ...]] = ("segments",)
    adds: ClassVar[tuple[str, ...]] = ("pairs", "segments.partner_segment_id", "segments.turn_index")
    resources: ClassVar[Resources] = Resources(cpus=0.25)

    max_gap_s: float = field(default=1.0, metadata={"range": (0, None)})
    min_overlap_s: float = field(default=0.5, metadata={"range": (0, None)})

    def process(self, work: VideoWork) -> VideoWork:
        turns = work.speech.turns if work.speech is not None else []
        for segment in work.segments:
            segment.turn_index = _turn_of(segment, turns)
        speaking = [s for s in work.segments if s.state == "speaking"]
        for listening in (s for s in work.segments if s.state == "listening"):
            links = [
                link for link in (segment_link(s, listening, self.min_overlap_s, self.max_gap_s) for s in speaking)
                if link
            ]
            for relation, amount, speaker in links:
                work.pairs.append(
                    PairRow(
                        pair_id=f"{speaker.segment_id}~{listening.segment_id}",
                        video_id=work.video_id,
                        speaking_segment_id=speaker.segment_id,
                        listening_segment_id=listening.segment_id,
                        relation=relation,
                        overlap_s=amount,
                        speaker_track_id=speaker.track_id,
                        listener_track_id=listening.track_id,
                        listener_video_id=work.video_id,
                        offset_s=0.0,
                    )
                )
            if links:
                listening.partner_segment_id = best_link(links).speaker.segment_id
        work.pairs.sort(key=lambda p: p.pair_id or "")
        return work


def _turn_of(segment: SegmentRow, turns: list[SpeakerTurn]) -> int | None:
    best, best_overlap = None, 0.0
    if segment.t_start is None or segment.t_end is None:
        return None
    for i, turn in enumerate(turns):
        overlap = min(segment.t_end, turn.t_end) - max(segment.t_start, turn.t_start)
        if overlap > best_overlap:
            best, best_overlap = i, overlap
    return best
