"""Synthetic labelled conversation videos (``lpm-curate synth``): real faces from offline photos,
espeak-ng voices, lips driven by the speech envelope, listener nods, blinks and gaze shifts,
interview cuts, split screens, pauses and deliberately bad shots, with per-frame ground truth."""

from curation.synth.cli import add_synth_arguments, run_synth
from curation.synth.corpus import generate_corpus

__all__ = ["add_synth_arguments", "generate_corpus", "run_synth"]
