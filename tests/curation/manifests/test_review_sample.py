"""The sample people look at: per state and per reason, seeded, a larger sample extends a smaller
one, the ``--where`` filter applies to kept segments, and rows come back typed."""

from pathlib import Path

from curation.manifests.duckdb_views import manifest_names, open_catalog
from curation.manifests.manifest_writer import write_manifest
from curation.manifests.review_sample import kept_sample, rejected_sample
from curation.store.run_store import RunStore
from schemas.tables import RejectionRow, SegmentRow, VideoRow


def _run(tmp_path: Path) -> RunStore:
    store = RunStore(str(tmp_path / "run"))
    segments = [SegmentRow(segment_id=f"s{i:02d}", video_id="v1", state=("speaking", "listening")[i % 2],
                           key=None if i == 0 else f"k{i:02d}", t_start=float(i), t_end=i + 2.5,
                           speaking_frac=i / 20) for i in range(20)]
    rejections = [RejectionRow(entity="segment", entity_id=f"r{i:02d}", video_id="v1", state="rejected",
                               stage="speech", reason=("too_short", "no_face")[i % 2], t_start=1.0, t_end=2.0)
                  for i in range(10)]
    write_manifest(store, "segments", segments)
    write_manifest(store, "rejections", rejections)
    write_manifest(store, "videos", [VideoRow(video_id="v1", uri="/media/a.mp4", state="kept")])
    return store


def test_kept_segments_are_sampled_per_state_seeded_and_a_larger_sample_extends_a_smaller(tmp_path):
    store = _run(tmp_path)
    with open_catalog(store) as con:
        small = kept_sample(con, None, 2, seed=7)
        large = kept_sample(con, None, 5, seed=7)
        other = kept_sample(con, None, 5, seed=8)
        filtered = kept_sample(con, "speaking_frac >= 0.5", 10, seed=7)
    assert all(isinstance(row, SegmentRow) for row in large)
    assert [r.state for r in small] == ["listening"] * 2 + ["speaking"] * 2
    by_state = {state: [r.segment_id for r in large if r.state == state] for state in ("listening", "speaking")}
    assert [r.segment_id for r in small] == by_state["listening"][:2] + by_state["speaking"][:2]
    assert {r.segment_id for r in large} != {r.segment_id for r in other}  # the seed orders the sample
    assert "s00" not in {r.segment_id for r in large + other}  # no sample, nothing to look at
    assert sorted(r.segment_id for r in filtered) == [f"s{i:02d}" for i in range(10, 20)]
    assert large[0].t_end - large[0].t_start == 2.5


def test_rejections_are_sampled_per_reason_with_their_input_uri(tmp_path):
    store = _run(tmp_path)
    with open_catalog(store) as con:
        picked = rejected_sample(con, manifest_names(store), 3, seed=1)
    assert [row.reason for row, _uri in picked] == ["no_face"] * 3 + ["too_short"] * 3
    assert all(isinstance(row, RejectionRow) and uri == "/media/a.mp4" for row, uri in picked)
