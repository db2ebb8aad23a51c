"""Synthetic labelled conversation videos (``lpm-curate synth``): real faces from offline photos,
espeak-ng voices, lips driven by the speech envelope, listener nods, blinks and gaze shifts,
interview cuts, split screens, pauses and deliberately bad shots, with per-frame ground truth."""

from apps.synth.corpus import generate_corpus

__all__ = ["generate_corpus"]
