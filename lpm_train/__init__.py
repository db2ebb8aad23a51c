"""lpm_train: stream curated WebDataset shards into an audio-, text- and reference-conditioned
video DiT, distil it into a causal few-step student, and stream video from it.

Entry point: ``lpm-train`` (lpm_train/cli.py). Imports ``schemas`` only from the rest of the project.
"""
