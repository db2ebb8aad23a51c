"""Identity clusters and references on real clips: the fantasy clips are one person, others are not."""

import itertools

import pytest

from curation.store.artefacts import read_blob
from schemas.tables import SegmentRow
from stages.identity import IdentityStage
from stages.references import ReferencesStage
from tests.stages.analysis_runner import analyse

FANTASY = [f"fantasy_end{v}.mp4" for v in ("0.1", "0.4", "0.7", "1.0")]
# Different people (checked by looking at frames): two talkvid speakers, a latentsync speaker.
OTHERS = ["talkvid_tys_gt.mp4", "talkvid_talk_emotion_gt.mp4", "latentsync_demo3_video.mp4"]


@pytest.fixture(scope="module")
def analysed(shared_media, models_dir):
    return {name: analyse(shared_media / name) for name in FANTASY + OTHERS}


@pytest.mark.slow
@pytest.mark.parametrize(("descriptor", "strength", "dimension"), [("auto", "strong", 128), ("fallback", "weak", 6363)])
def test_identity_clusters_the_same_person_and_separates_others(analysed, descriptor, strength, dimension):
    """``auto`` is dlib's learned embedding here (ArcFace is not fetched); ``fallback`` the
    hand-made descriptor. Both: the four fantasy clips one identity, everyone else apart."""
    stage = IdentityStage(descriptor=descriptor)
    stage.setup()
    summaries = {w.video_id: stage.summarize(w) for w in analysed.values()}
    decision = stage.decide(summaries)
    identity_of = {}
    for name, work in analysed.items():
        usable = [t for t in work.tracks if t.usable]
        assert len(usable) == 1, name
        identity_of[name] = decision.of_track[usable[0].track_id]
    assert len({identity_of[n] for n in FANTASY}) == 1, "the four fantasy clips show one person"
    for a, b in itertools.combinations([*OTHERS, FANTASY[0]], 2):
        assert identity_of[a] != identity_of[b], f"{a} and {b} are different people"
    rows = {r.identity_id: r for r in decision.rows}
    fantasy = rows[identity_of[FANTASY[0]]]
    assert fantasy.n_videos == 4 and fantasy.strength == strength
    assert fantasy.cohesion > 0.9 and len(fantasy.centroid) == dimension


@pytest.mark.slow
def test_references_come_from_outside_the_segment_and_cover_several_bins(analysed):
    works = list(analysed.values())
    identity = IdentityStage(descriptor="fallback")
    identity.setup()
    decision = identity.decide({w.video_id: identity.summarize(w) for w in works})
    for work in works:
        identity.apply(work, decision)
        track = next(t for t in work.tracks if t.usable)
        # one segment over the middle of the track; these clips are ~4 s, so keep it short
        # enough that each clip has footage outside it
        mid = (track.t_start + track.t_end) / 2
        work.segments = [
            SegmentRow(
                segment_id=f"{track.track_id}-g000",
                track_id=track.track_id,
                identity_id=track.identity_id,
                t_start=mid - 0.5,
                t_end=mid + 0.5,
            )
        ]
    references = ReferencesStage(refs_per_segment=3, margin_s=0.25)
    pools = references.decide({w.video_id: references.summarize(w) for w in works})
    fantasy_identity = next(t.identity_id for t in analysed[FANTASY[0]].tracks if t.usable)
    pool = pools[fantasy_identity]
    bins = {(c.view_bin, c.expression_bin) for c in pool}
    assert len({c.video_id for c in pool}) >= 2, "the pool draws on several clips of the identity"
    assert len({b for pair in bins for b in pair}) >= 3, f"at least three distinct bins filled: {bins}"
    for work in works:
        references.apply(work, pools)
        segment = work.segments[0]
        refs = work.segment_references[segment.segment_id]
        assert refs, "every segment gets references"
        assert {r.kind for r in refs} == {"face", "body", "global"}
        for ref in refs:
            inside = ref.video_id == work.video_id and segment.t_start <= ref.t <= segment.t_end
            assert not inside, "a reference never comes from inside the conditioned segment"
            # the JPEG is read from the crop archive its own video's worker wrote to the run store
            assert read_blob(work.run_uri, ref.archive, ref.jpeg_name)[:2] == b"\xff\xd8"
    fantasy_work = analysed[FANTASY[0]]
    refs = fantasy_work.segment_references[fantasy_work.segments[0].segment_id]
    assert any(r.video_id != fantasy_work.video_id for r in refs), "other clips of the same identity first"
    rows = references.manifest_rows(pools)["references"]
    assert {r.kind for r in rows} == {"face", "body", "global"}
