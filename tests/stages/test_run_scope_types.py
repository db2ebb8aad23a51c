"""Run-scope summaries and decisions are read back as the stage's declared types, those written as
plain mappings before the types existed included; a field no type declares is refused."""

import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from curation.runtime.run_scope_stage import RunScopeStage
from curation.store.ledger import Ledger
from curation.store.plain_codec import PlainDataError
from curation.store.run_store import RunStore
from schemas.tables import IdentityRow
from stages.dedup import DedupStage, DedupVerdict
from stages.identity import IdentityDecision, IdentityStage, IdentityTrackSummary
from stages.workflow_stages import WORKFLOW_STAGES


def test_every_run_scope_stage_declares_its_summary_and_decision_types() -> None:
    run_scope = {name: cls for name, cls in WORKFLOW_STAGES.items() if issubclass(cls, RunScopeStage)}
    assert sorted(run_scope) == ["cross_video_pairs", "dedup", "identity", "references", "voice_identities"]
    for name, cls in run_scope.items():
        assert cls.decision_hint() is not Any, name
        assert Any not in typing.get_args(cls.summary_hint()), name


def test_an_identity_summary_and_decision_stored_as_mappings_read_as_their_types(tmp_path: Path) -> None:
    ledger = Ledger(RunStore(str(tmp_path)))
    vector = np.eye(4, dtype=np.float32)[1]
    ledger.save_summary("v0", 2, [{"track_id": "v0-t0", "video_id": "v0", "t_start": 0.0, "t_end": 4, "vector": vector,
                                   "kind": "dlib", "strength": "strong", "n_segments": 1, "seconds": 3.5}])
    ledger.save_decision("identity", "plan", {"of_track": {"v0-t0": "id0"}, "rows": [
        {"identity_id": "id0", "n_tracks": 1, "centroid": [0.0, 1.0, 0.0, 0.0]}]})
    (summary,) = ledger.summaries(["v0"], 2, hint=IdentityStage.summary_hint())["v0"]
    assert isinstance(summary, IdentityTrackSummary) and summary.t_end == 4.0 and isinstance(summary.t_end, float)
    assert np.array_equal(summary.vector, vector)
    _plan, decision = ledger.decision("identity", IdentityStage.decision_hint())
    assert decision == IdentityDecision({"v0-t0": "id0"}, [IdentityRow(identity_id="id0", n_tracks=1,
                                                                        centroid=[0.0, 1.0, 0.0, 0.0])])


def test_a_dedup_decision_from_before_picture_twins_reads_every_entry_as_a_duplicate(tmp_path: Path) -> None:
    ledger = Ledger(RunStore(str(tmp_path)))
    ledger.save_decision("dedup", "plan", {"s1": {"segment_id": "s1", "kept_segment_id": "s0", "evidence": "phash",
                                                  "matched_fraction": 0.9, "mean_hash_distance": 2.0, "cosine": None}})
    _plan, decision = ledger.decision("dedup", DedupStage.decision_hint())
    assert decision == {"s1": DedupVerdict("duplicate", "s1", "s0", "phash", 0.9, 2.0)} and decision["s1"].drops


def test_a_summary_field_no_type_declares_is_refused(tmp_path: Path) -> None:
    ledger = Ledger(RunStore(str(tmp_path)))
    ledger.save_summary("v0", 0, [{"segment_id": "s0", "video_id": "v0", "hashes": [1, 2], "phash": [3]}])
    with pytest.raises(PlainDataError, match="phash"):
        ledger.summaries(["v0"], 0, hint=DedupStage.summary_hint())
