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
from itertools import combinations
from typing import Any

from curation.manifests.review_verdicts import item_decisions, latest_verdicts

Z_95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def build_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    latest = latest_verdicts(rows)
    decisions = item_decisions(rows)
    stratum_of = {row["item"]: (row["item_kind"], row["stratum"]) for row in latest}
    strata: dict[tuple[str, str], dict[str, Any]] = {}
    for item, decision in decisions.items():
        entry = strata.setdefault(stratum_of[item], {"reviewed": 0, "accepted": 0, "verdicts": 0})
        entry["reviewed"] += 1
        entry["accepted"] += decision == "accept"
    for row in latest:
        strata[(row["item_kind"], row["stratum"])]["verdicts"] += 1
    table = []
    for (kind, stratum), entry in sorted(strata.items()):
        low, high = wilson_interval(entry["accepted"], entry["reviewed"])
        table.append({"kind": kind, "stratum": stratum, **entry,
                      "precision": entry["accepted"] / entry["reviewed"], "ci95": [low, high]})
    return {"strata": table, "agreement": agreement(latest), "verdicts": len(rows),
            "reviewers": sorted({row["reviewer"] for row in rows}), "items": len(decisions)}


def agreement(latest: list[dict[str, Any]]) -> dict[str, Any]:
    by_item: dict[str, list[str]] = {}
    for row in latest:
        by_item.setdefault(row["item"], []).append(row["verdict"])
    shared = {item: votes for item, votes in by_item.items() if len(votes) >= 2}
    pairs = [(a, b) for votes in shared.values() for a, b in combinations(votes, 2)]
    if not pairs:
        return {"items": 0, "pairs": 0, "agreeing_pairs": 0, "observed": None, "kappa": None}
    agreeing = sum(a == b for a, b in pairs)
    observed = agreeing / len(pairs)
    votes = [v for item_votes in shared.values() for v in item_votes]
    p_accept = votes.count("accept") / len(votes)
    expected = p_accept**2 + (1 - p_accept) ** 2
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return {"items": len(shared), "pairs": len(pairs), "agreeing_pairs": agreeing, "observed": observed,
            "kappa": kappa}
