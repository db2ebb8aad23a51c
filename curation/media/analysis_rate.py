"""The one sample rate every audio analysis model here takes (Silero VAD, Whisper, pyannote,
Resemblyzer, Conv-TasNet's resampling, the sync networks): 16 kHz mono.

Its own module so that a model wrapper that only needs the number does not import the decoder
and PyAV with it (a GPU worker that is handed decoded samples has no use for them).
"""

ANALYSIS_SAMPLE_RATE = 16_000
