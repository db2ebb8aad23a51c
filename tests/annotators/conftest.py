from pathlib import Path

import pytest

from tests.annotators.mouth_signals import ClipSignals, cached_clip_signals, talking_head_clips


@pytest.fixture(scope="session")
def talking_head_signals(shared_media: Path, request: pytest.FixtureRequest) -> dict[str, ClipSignals]:
    """Mouth signals and audio of every ``talking_head`` clip, extracted once and cached."""
    cache = Path(request.config.cache.mkdir("lpm-mouth-signals"))
    return {name: cached_clip_signals(shared_media / name, cache) for name in talking_head_clips(shared_media)}
