"""Conv-TasNet loading as the weights file is published (a torch.save'd state_dict of
torchaudio's ``conv_tasnet_base``), on a randomly initialised network; and the message when the
model is absent."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torchaudio

from annotators.models.speech_separator import SPEECH_SEPARATOR_MODEL_NAME, SpeechSeparator
from apps.cli.main import main
from curation.models import model_store


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("separator") / model_store.MODEL_CATALOG[SPEECH_SEPARATOR_MODEL_NAME].path
    torch.save(torchaudio.models.conv_tasnet_base(num_sources=2).state_dict(), path)
    return path


def test_a_state_dict_file_loads_and_splits_a_span_into_two_sources_that_add_up_to_it(random_weights: Path) -> None:
    rng = np.random.default_rng(0)
    mix = (rng.standard_normal(8000) * 0.1).astype(np.float32)  # 0.5 s at 16 kHz
    with SpeechSeparator(random_weights) as separator:
        sources = separator.separate(mix)
        network = separator._model
        assert sum(p.numel() for p in network.parameters()) == 4_984_881  # conv_tasnet_base's size
    assert sources.shape == (2, 8000) and sources.dtype == np.float32
    # Least-squares gains: the sources' sum is the best fit of the mix they allow, never worse than silence.
    residual = np.sum((sources.sum(axis=0) - mix) ** 2)
    assert residual < np.sum(mix**2)
    assert not separator.is_set_up


def test_weights_of_another_network_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save(torchaudio.models.ConvTasNet(num_sources=2, msk_num_layers=2).state_dict(), path)
    with pytest.raises(RuntimeError, match="state_dict"):
        SpeechSeparator(path).setup()


def test_without_the_weights_the_error_and_models_verify_name_the_fetch_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LPM_MODELS_DIR", str(tmp_path))
    with pytest.raises(model_store.ModelMissingError, match="lpm-curate models fetch speech_separator"):
        SpeechSeparator().setup()
    main(["models", "verify", SPEECH_SEPARATOR_MODEL_NAME])
    out = capsys.readouterr().out
    assert "missing" in out and "models fetch speech_separator" in out


def test_the_registry_name_resolves_to_the_fetched_file(
    random_weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LPM_MODELS_DIR", str(random_weights.parent))
    separator = SpeechSeparator()
    separator.setup()
    assert separator.is_set_up
    assert model_store.verify(SPEECH_SEPARATOR_MODEL_NAME).status == "unpinned"  # no published checksum
