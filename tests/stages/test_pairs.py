"""The pairs stage on hand-made timelines: which listening segment pairs with which speaking one,
how they relate, the typed rows it adds and the table they make."""

from pathlib import Path
from typing import Any

import numpy as np

from curation.manifests.manifest_writer import read_manifest, write_manifest
from curation.runtime.products import SpeechResult
from curation.runtime.video_work import VideoWork
from curation.store.run_store import RunStore
from schemas.speech_rows import SpeakerTurn
from schemas.tables import PairRow, SegmentRow
from stages.pairs import PairsStage


def _segment(segment_id: str, track_id: str, state: str, t_start: float, t_end: float, **extra: Any) -> SegmentRow:
    return SegmentRow(segment_id=segment_id, track_id=track_id, state=state, t_start=t_start, t_end=t_end, **extra)


def _work(*segments: SegmentRow, turns: list[SpeakerTurn] | None = None) -> VideoWork:
    work = VideoWork(uri="clip.mp4", video_id="v1", segments=list(segments))
    if turns is not None:
        work.speech = SpeechResult(vad_prob=np.zeros(0, dtype=np.float16), turns=turns)
    return work


def test_a_two_shot_pairs_the_overlapping_listener_and_names_its_partner() -> None:
    work = PairsStage().process(_work(
        _segment("a-s0", "a", "speaking", 0.0, 4.0),
        _segment("b-l0", "b", "listening", 1.0, 5.0),
    ))
    assert work.pairs == [PairRow(
        pair_id="a-s0~b-l0", video_id="v1", speaking_segment_id="a-s0", listening_segment_id="b-l0",
        relation="same_span", overlap_s=3.0, speaker_track_id="a", listener_track_id="b", listener_video_id="v1",
        offset_s=0.0,
    )]
    assert work.segments[1].partner_segment_id == "a-s0"
    assert work.segments[0].partner_segment_id is None


def test_a_cut_to_the_listener_pairs_by_the_gap_and_the_overlap_wins_the_partner() -> None:
    work = PairsStage(max_gap_s=1.0).process(_work(
        _segment("a-s0", "a", "speaking", 0.0, 3.0),
        _segment("c-s0", "c", "speaking", 3.5, 7.0),
        _segment("b-l0", "b", "listening", 3.5, 6.0),
    ))
    relations = {(p.speaking_segment_id, p.relation) for p in work.pairs}
    assert relations == {("a-s0", "following"), ("c-s0", "same_span")}
    assert [p.pair_id for p in work.pairs] == sorted(p.pair_id for p in work.pairs)
    assert work.segments[2].partner_segment_id == "c-s0"  # shared time beats a gap


def test_no_pair_with_oneself_beyond_the_gap_or_in_a_monologue() -> None:
    same_person = PairsStage().process(_work(
        _segment("a-s0", "a", "speaking", 0.0, 3.0, identity_id="p1"),
        _segment("b-l0", "b", "listening", 0.0, 3.0, identity_id="p1"),  # one person on two tracks
        _segment("a-l1", "a", "listening", 3.2, 5.0),  # the speaker's own track
        _segment("d-l0", "d", "listening", 9.0, 12.0),  # 6 s after the speaking ended
    ))
    assert same_person.pairs == []
    monologue = PairsStage().process(_work(_segment("a-s0", "a", "speaking", 0.0, 9.0)))
    assert monologue.pairs == [] and monologue.segments[0].partner_segment_id is None


def test_each_segment_gets_the_turn_it_overlaps_most() -> None:
    turns = [SpeakerTurn(None, 0.0, 2.0), SpeakerTurn(None, 2.0, 8.0)]
    work = PairsStage().process(_work(
        _segment("a-s0", "a", "speaking", 1.0, 6.0),
        _segment("a-s1", "a", "speaking", 9.0, 10.0),
        turns=turns,
    ))
    assert [s.turn_index for s in work.segments] == [1, None]


def test_the_rows_make_the_pairs_table(tmp_path: Path) -> None:
    work = PairsStage().process(_work(
        _segment("a-s0", "a", "speaking", 0.0, 4.0),
        _segment("b-l0", "b", "listening", 1.0, 5.0),
    ))
    store = RunStore(str(tmp_path))
    write_manifest(store, "pairs", work.pairs)
    rows = read_manifest(store, "pairs").to_pylist()
    assert [(r["pair_id"], r["relation"], r["alignment_peak"]) for r in rows] == [("a-s0~b-l0", "same_span", None)]
