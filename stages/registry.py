"""Stage names as workflows spell them, mapped to their classes."""

from curation.config.workflow import StageRegistry
from stages.probe import ProbeStage

STAGE_REGISTRY: StageRegistry = {cls.name: cls for cls in (ProbeStage,)}
