"""What a retraining of a model this project ships says about its bytes against the shipped ones.

Training here is seeded and deterministic (the same feature cache gives the same SHA-256), so other
bytes mean another input. The user needs to know which kind: a cache of other footage or of another
commit's labeller (other segments), or the same segments whose feature values differ, as a cache
extracted on another machine does (measured, cause not isolated: its ffmpeg build or CPU kernels can
move a float; docs/sync_verdict.md, "Reproducing the shipped weights on a fresh machine").
"""

from curation.models.model_spec import ModelSpec


def against_shipped(digest: str, spec: ModelSpec, trained_on: str) -> str:
    """One sentence: whether ``digest`` is the shipped file and, if not, which input differs."""
    if digest == spec.sha256:
        return f"the shipped {spec.name}"
    differs = f"differs from the shipped {spec.sha256} (trained on {spec.trained_on or 'an unrecorded cache'})"
    if trained_on == spec.trained_on:
        return (f"{differs}: the same count, other feature values (a cache extracted on another machine or "
                "at another commit); the training itself is deterministic")
    return f"{differs}: this cache holds {trained_on} (other footage or another commit's labeller)"
