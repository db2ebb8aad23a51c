"""Choose an identity's reference pool, and each segment's references from outside its window.

Pool: for each viewpoint bin and each expression bin, the best-scoring candidate; candidates
chosen for several bins appear once. Per segment: pool entries are ranked by (from another video
first, a bin not yet used, score), and any entry from the same video whose time falls inside the
segment, widened by ``margin_s``, is excluded, so a model is never conditioned on its own target.
"""

from annotators.identity.reference_candidate import ReferenceCandidate


def choose_pool(candidates: list[ReferenceCandidate], max_pool: int) -> list[ReferenceCandidate]:
    """Best candidate per view bin and per expression bin, highest scores first."""
    chosen: dict[str, ReferenceCandidate] = {}
    for bin_of in (lambda c: c.view_bin, lambda c: c.expression_bin):
        best: dict[str, ReferenceCandidate] = {}
        for c in candidates:
            b = bin_of(c)
            if b not in best or (c.score, c.id) > (best[b].score, best[b].id):
                best[b] = c
        for c in best.values():
            chosen[c.id] = c
    return sorted(chosen.values(), key=lambda c: (-c.score, c.id))[:max_pool]


def references_for_segment(
    pool: list[ReferenceCandidate], video_id: str, t_start: float, t_end: float, count: int, margin_s: float
) -> list[ReferenceCandidate]:
    allowed = [c for c in pool if not (c.video_id == video_id and t_start - margin_s <= c.t <= t_end + margin_s)]
    picked: list[ReferenceCandidate] = []
    used_bins: set[tuple[str, str]] = set()
    remaining = list(allowed)
    while remaining and len(picked) < count:
        remaining.sort(
            key=lambda c: (
                c.video_id == video_id,
                (c.view_bin, c.expression_bin) in used_bins,
                -c.score,
                c.id,
            )
        )
        best = remaining.pop(0)
        picked.append(best)
        used_bins.add((best.view_bin, best.expression_bin))
    return picked
