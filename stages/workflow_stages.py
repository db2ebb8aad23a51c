"""Stage names as workflows spell them, mapped to their classes."""

from curation.config.workflow import StagesByName
from stages.audio_analysis import AudioAnalysisStage
from stages.captions import CaptionsStage
from stages.dedup import DedupStage
from stages.identity import IdentityStage
from stages.pairs import PairsStage
from stages.performer_filter import PerformerFilterStage
from stages.probe import ProbeStage
from stages.references import ReferencesStage
from stages.sample_writer import SampleWriterStage
from stages.speech import SpeechStage
from stages.states import StatesStage
from stages.visual_analysis import VisualAnalysisStage

WORKFLOW_STAGES: StagesByName = {
    cls.name: cls
    for cls in (
        ProbeStage,
        VisualAnalysisStage,
        AudioAnalysisStage,
        PerformerFilterStage,
        SpeechStage,
        StatesStage,
        IdentityStage,
        DedupStage,
        PairsStage,
        ReferencesStage,
        CaptionsStage,
        SampleWriterStage,
    )
}
