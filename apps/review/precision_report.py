"""Verdicts into figures: precision per state and per rejection reason, and reviewer agreement.

Each reviewer's latest verdict per item counts (a reviewer may change their mind). An item's
verdict is its reviewers' majority, a tie counting as reject (``item_decisions``), so an item
reviewed twice is one trial, not two. Precision is accepted items / reviewed items with a 95%
Wilson score interval, which stays inside [0, 1] and is honest for the handful of items a review
session covers. Agreement is measured on items with two or more reviewers: the share of reviewer
pairs that agree, and Scott's pi / Fleiss' kappa over those pairs (agreement beyond what the
overall accept rate gives by chance).
"""

import math
from collections import Counter
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

from curation.manifests.review_verdicts import Verdict, item_decisions, latest_verdicts

Z_95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class StratumPrecision:
    """One state (kept items) or rejection reason (rejected items): its items' verdicts and precision."""

    kind: str  # kept | rejected
    stratum: str
    reviewed: int  # items with a standing verdict
    accepted: int  # of them, accepted by their reviewers' majority
    verdicts: int  # standing verdicts (an item reviewed twice has two)
    precision: float
    ci95: tuple[float, float]  # Wilson


@dataclass(frozen=True)
class Agreement:
    """Over the items two or more reviewers judged: agreeing reviewer pairs and Scott's pi."""

    items: int
    pairs: int
    agreeing_pairs: int
    observed: float | None
    kappa: float | None  # None: undefined (every vote the same)


@dataclass(frozen=True)
class PrecisionReport:
    strata: list[StratumPrecision]
    agreement: Agreement
    verdicts: int  # every verdict recorded, undos and changed minds included
    reviewers: list[str]
    items: int  # items with a standing verdict

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def build_report(verdicts: list[Verdict]) -> PrecisionReport:
    latest = latest_verdicts(verdicts)
    decisions = item_decisions(verdicts)
    stratum_of = {v.item: (v.item_kind, v.stratum) for v in latest}
    reviewed: Counter[tuple[str, str]] = Counter(stratum_of[item] for item in decisions)
    accepted: Counter[tuple[str, str]] = Counter(stratum_of[item] for item, d in decisions.items() if d == "accept")
    standing: Counter[tuple[str, str]] = Counter((v.item_kind, v.stratum) for v in latest)
    strata = []
    for kind, stratum in sorted(reviewed):
        n, yes = reviewed[(kind, stratum)], accepted[(kind, stratum)]
        strata.append(StratumPrecision(kind, stratum, n, yes, standing[(kind, stratum)], yes / n,
                                       wilson_interval(yes, n)))
    return PrecisionReport(strata, agreement(latest), len(verdicts), sorted({v.reviewer for v in verdicts}),
                           len(decisions))


def agreement(latest: list[Verdict]) -> Agreement:
    by_item: dict[str, list[str]] = {}
    for verdict in latest:
        by_item.setdefault(verdict.item, []).append(verdict.verdict)
    shared = {item: votes for item, votes in by_item.items() if len(votes) >= 2}
    pairs = [(a, b) for votes in shared.values() for a, b in combinations(votes, 2)]
    if not pairs:
        return Agreement(0, 0, 0, None, None)
    agreeing = sum(a == b for a, b in pairs)
    observed = agreeing / len(pairs)
    votes = [v for item_votes in shared.values() for v in item_votes]
    p_accept = votes.count("accept") / len(votes)
    expected = p_accept**2 + (1 - p_accept) ** 2
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return Agreement(len(shared), len(pairs), agreeing, observed, kappa)
