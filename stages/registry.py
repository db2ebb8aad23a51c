"""Stage names as workflows spell them, mapped to their classes."""

from curation.config.workflow import StageRegistry
from stages.audio_analysis import AudioAnalysisStage
from stages.performer_filter import PerformerFilterStage
from stages.probe import ProbeStage
from stages.visual_analysis import VisualAnalysisStage

STAGE_REGISTRY: StageRegistry = {
    cls.name: cls for cls in (ProbeStage, VisualAnalysisStage, AudioAnalysisStage, PerformerFilterStage)
}
