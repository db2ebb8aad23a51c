"""The analysis audio a video's ``AudioTrack`` points to, read back from the run store."""

import numpy as np

from curation.runtime.video_work import VideoWork
from curation.store.artefacts import read_array


def audio_pcm16(work: VideoWork) -> np.ndarray:
    """The analysis audio as stored: int16 at 16 kHz (empty when the video has none)."""
    if work.audio is None or not work.audio.pcm_path:
        return np.zeros(0, dtype=np.int16)
    return read_array(work.run_uri, work.audio.pcm_path)


def audio_samples(work: VideoWork) -> np.ndarray:
    """The analysis audio as float32 in [-1, 1] (empty when the video has none)."""
    return audio_pcm16(work).astype(np.float32) / 32768.0
