"""review-report on known verdicts: exact counts, Wilson intervals, agreement, and the HTML page."""

import json

import pytest

from apps.review.precision_report import wilson_interval
from curation.manifests.review_verdicts import Verdict, read_verdicts, record_verdict
from curation.store.run_store import RunStore
from tests.curation.pipeline_runs import run_cli

# Published 95% Wilson score intervals (Newcombe 1998 and standard tables), to four decimals.
WILSON_8_OF_10 = (0.4902, 0.9433)
WILSON_7_OF_10 = (0.3968, 0.8922)
WILSON_5_OF_5 = (0.5655, 1.0)
WILSON_1_OF_4 = (0.0456, 0.6994)


def _verdict(n: int, reviewer: str, item: str, kind: str, stratum: str, verdict: str,
             reason: str | None = None) -> Verdict:
    return Verdict(f"{n:032x}", reviewer, f"2026-11-22T10:{n // 60:02d}:{n % 60:02d}.000+00:00", item, kind, stratum,
                   verdict, reason if verdict == "reject" else None, None)


@pytest.fixture
def reviewed_run(tmp_path):
    store = RunStore(str(tmp_path))
    verdicts = []
    # alice: speaking s0-s7 accepted, s8-s9 rejected
    for i in range(10):
        verdicts.append(_verdict(len(verdicts), "alice", f"seg-s{i}", "kept", "speaking",
                                 "accept" if i < 8 else "reject", "wrong_state"))
    # alice: listening l0-l4 accepted; on l4 she first rejected, then changed her mind
    verdicts.append(_verdict(len(verdicts), "alice", "seg-l4", "kept", "listening", "reject", "wrong_audio"))
    for i in range(5):
        verdicts.append(_verdict(len(verdicts), "alice", f"seg-l{i}", "kept", "listening", "accept"))
    # alice: rejections for no_face, 1 of 4 rightly rejected
    for i in range(4):
        verdicts.append(_verdict(len(verdicts), "alice", f"shot:v-s{i}", "rejected", "no_face",
                                 "accept" if i == 0 else "reject", "wrongly_rejected"))
    # bob reviews four speaking items again: agrees on s0, s1, s8, disagrees on s2 (a tie: reject)
    for item, verdict in (("seg-s0", "accept"), ("seg-s1", "accept"), ("seg-s8", "reject"), ("seg-s2", "reject")):
        verdicts.append(_verdict(len(verdicts), "bob", item, "kept", "speaking", verdict, "out_of_sync"))
    for v in verdicts:
        assert record_verdict(store, v)
    assert not record_verdict(store, verdicts[0]), "the same verdict id is stored once"
    assert len(read_verdicts(store)) == len(verdicts) == 24
    return tmp_path


def test_wilson_interval_matches_published_values():
    for (k, n), expected in {(8, 10): WILSON_8_OF_10, (7, 10): WILSON_7_OF_10, (5, 5): WILSON_5_OF_5,
                             (1, 4): WILSON_1_OF_4}.items():
        assert wilson_interval(k, n) == pytest.approx(expected, abs=1e-4)


def test_review_report_gives_exact_counts_intervals_and_agreement(reviewed_run, tmp_path):
    page = tmp_path / "report" / "review.html"
    result = run_cli("review-report", str(reviewed_run), "--json", "--html", str(page))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    strata = {(r["kind"], r["stratum"]): r for r in report["strata"]}
    assert sorted(strata) == [("kept", "listening"), ("kept", "speaking"), ("rejected", "no_face")]
    speaking, listening = strata["kept", "speaking"], strata["kept", "listening"]
    no_face = strata["rejected", "no_face"]
    # s2 is a 1-1 tie between alice and bob, counted as reject: 7 of 10 accepted, 14 latest verdicts
    assert (speaking["reviewed"], speaking["accepted"], speaking["verdicts"]) == (10, 7, 14)
    assert speaking["precision"] == pytest.approx(0.7)
    assert speaking["ci95"] == pytest.approx(WILSON_7_OF_10, abs=1e-4)
    # alice's change of mind on l4: her latest verdict (accept) counts
    assert (listening["reviewed"], listening["accepted"], listening["verdicts"]) == (5, 5, 5)
    assert listening["ci95"] == pytest.approx(WILSON_5_OF_5, abs=1e-4)
    assert (no_face["reviewed"], no_face["accepted"]) == (4, 1)
    assert no_face["ci95"] == pytest.approx(WILSON_1_OF_4, abs=1e-4)
    # four items reviewed twice, one pair disagrees; 5 of the 8 votes accept, so chance agreement
    # is 0.625^2 + 0.375^2 = 0.53125 and kappa = (0.75 - 0.53125) / (1 - 0.53125)
    assert report["agreement"] == {"items": 4, "pairs": 4, "agreeing_pairs": 3, "observed": 0.75,
                                   "kappa": pytest.approx(0.2187500 / 0.46875)}
    assert (report["verdicts"], report["items"], report["reviewers"]) == (24, 19, ["alice", "bob"])
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 1 and "0.397 - 0.892" in html and "3 agree" in html


def test_review_report_without_verdicts_says_so(tmp_path):
    result = run_cli("review-report", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no item was reviewed twice" in result.stdout
