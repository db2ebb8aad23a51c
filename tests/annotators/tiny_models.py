"""Builders of tiny, randomly initialised speech models, saved in the formats the real ones ship in.

The real Whisper, wav2vec2 and pyannote weights are not available offline, so tests build models
with the same file layout and run them through the annotators' own loading and inference code.
Their output is noise; what the tests check is the code path, timings and shapes.
"""

import json
from pathlib import Path

import numpy as np

# Whisper's special tokens in the order the real vocabulary has them; text tokens come first so
# that every text token id is below ``<|endoftext|>`` (faster-whisper drops ids >= eot as special).
WHISPER_TASK_TOKENS = ("<|translate|>", "<|transcribe|>")
TIMESTAMP_TOKENS = 1501  # <|0.00|> ... <|30.00|>
# The prompt takes the first positions (2 tokens English-only, 4 multilingual); from here on
# the random decoder is made to end the text.
WHISPER_STOP_POSITION = 10
# The real vocabulary size. CTranslate2 4.8 still reports the tiny model as English-only
# (``is_multilingual`` False), so it runs with the prompt of the ``*.en`` models.
WHISPER_VOCAB_SIZE = 51_865


def _whisper_text_tokens(count: int) -> list[str]:
    """Lower-case letter strings with and without a leading byte-level space (``Ġ``), so that
    whatever a random model emits decodes to words an English alignment model can align."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    tokens: list[str] = []
    pieces = list(letters)
    while len(tokens) < count:
        tokens += [p for piece in pieces for p in (piece, "Ġ" + piece)]
        pieces = [piece + letter for piece in pieces for letter in letters]
    return tokens[:count]


def _language_tokens() -> list[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # Whisper's 100 languages, in token order

    return [f"<|{code}|>" for code in _LANGUAGE_CODES]


def _whisper_special_tokens() -> list[str]:
    return [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *_language_tokens(),
        *WHISPER_TASK_TOKENS,
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
        *(f"<|{i * 0.02:.2f}|>" for i in range(TIMESTAMP_TOKENS)),
    ]


def _write_whisper_tokenizer(directory: Path) -> dict[str, int]:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    specials = _whisper_special_tokens()
    text_tokens = _whisper_text_tokens(WHISPER_VOCAB_SIZE - len(specials))
    vocab = {token: i for i, token in enumerate(text_tokens)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in specials])
    tokenizer.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "eos_token": "<|endoftext|>",
                "bos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
            }
        )
    )
    return tokenizer.get_vocab()


def build_tiny_whisper_ct2(directory: Path, output: Path | None = None, seed: int = 0) -> Path:
    """A random 2-layer Whisper, converted to CTranslate2 like ``Systran/faster-whisper-*``, into
    ``output`` (default ``directory / "ct2"``); ``directory`` keeps the transformers original."""
    import ctranslate2
    import torch
    from transformers import GenerationConfig, WhisperConfig, WhisperForConditionalGeneration

    hf_dir = directory / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    vocab = _write_whisper_tokenizer(hf_dir)
    eot, sot = vocab["<|endoftext|>"], vocab["<|startoftranscript|>"]
    config = WhisperConfig(
        vocab_size=len(vocab),
        num_mel_bins=80,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config)
    with torch.no_grad():
        # Make the random decoder stop after a few words instead of running to its 448-token
        # limit: from position WHISPER_STOP_POSITION on, the positional embedding is dominated by
        # one direction that only <|endoftext|>'s (output-tied) embedding is aligned with.
        direction = torch.nn.functional.normalize(torch.randn(config.d_model), dim=0)
        decoder = model.model.decoder
        decoder.embed_positions.weight[WHISPER_STOP_POSITION:] += 20.0 * direction
        decoder.embed_tokens.weight[eot] = 0.2 * direction
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot,
        eos_token_id=eot,
        pad_token_id=eot,
        no_timestamps_token_id=vocab["<|notimestamps|>"],
        lang_to_id={token: vocab[token] for token in _language_tokens()},
        task_to_id={"translate": vocab["<|translate|>"], "transcribe": vocab["<|transcribe|>"]},
        suppress_tokens=[],
        begin_suppress_tokens=[eot],  # as in the real models: no empty transcript
        is_multilingual=True,
    )
    model.save_pretrained(hf_dir)
    ct2_dir = output or directory / "ct2"
    converter = ctranslate2.converters.TransformersConverter(str(hf_dir), copy_files=["tokenizer.json"])
    converter.convert(str(ct2_dir), force=True)
    return ct2_dir


ALIGN_VOCAB = ("<pad>", "<s>", "</s>", "<unk>", "|", *"abcdefghijklmnopqrstuvwxyz", "'")


def build_tiny_wav2vec2_ctc(directory: Path, seed: int = 0) -> Path:
    """A random 1-layer ``Wav2Vec2ForCTC`` + processor saved with ``save_pretrained``.

    The seven feature-extractor convolutions keep wav2vec2's 320-sample (20 ms) frame.
    """
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    directory.mkdir(parents=True, exist_ok=True)
    vocab_file = directory / "vocab.json"
    vocab_file.write_text(json.dumps({token: i for i, token in enumerate(ALIGN_VOCAB)}))
    tokenizer = Wav2Vec2CTCTokenizer(str(vocab_file), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(directory)
    config = Wav2Vec2Config(
        vocab_size=len(ALIGN_VOCAB),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        pad_token_id=0,
    )
    torch.manual_seed(seed)
    Wav2Vec2ForCTC(config).save_pretrained(directory)
    return directory


def _save_pyannote_checkpoint(model: object, directory: Path) -> None:
    """What pyannote's Lightning checkpoints hold: weights, hyper-parameters, class and task."""
    import pytorch_lightning
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": pytorch_lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, directory / "pytorch_model.bin")


def _write_random_plda(directory: Path, embedding_dim: int, lda_dim: int, seed: int) -> None:
    """The two ``.npz`` files of a VBx PLDA (x-vector transform, PLDA model), well conditioned."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(
        directory / "xvec_transform.npz",
        mean1=rng.normal(size=embedding_dim),
        mean2=rng.normal(size=lda_dim),
        lda=rng.normal(size=(embedding_dim, lda_dim)),
    )
    np.savez(
        directory / "plda.npz",
        mu=rng.normal(size=lda_dim),
        tr=rng.normal(size=(lda_dim, lda_dim)) + 3 * np.eye(lda_dim),
        psi=np.sort(rng.uniform(0.5, 5.0, size=lda_dim))[::-1],
    )


def build_tiny_diarization_pipeline(directory: Path, seed: int = 0) -> Path:
    """A folder laid out like ``pyannote/speaker-diarization-community-1`` with random models.

    ``config.yaml`` names the same pipeline class and ``$model/<subfolder>`` entries as the real
    one; the segmentation model is a small powerset PyanNet (3 speakers, 2 at once, 10 s chunks) and
    the embedding an x-vector (the real ResNet34 takes minutes per file on this CPU).
    """
    import torch
    import yaml
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import XVectorMFCC
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(seed)
    segmentation = PyanNet(
        lstm={"hidden_size": 16, "num_layers": 1},
        linear={"hidden_size": 16, "num_layers": 1},
    )
    segmentation.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=10.0,
        min_duration=10.0,
        warm_up=(0.0, 0.0),
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    segmentation.build()
    _save_pyannote_checkpoint(segmentation, directory / "segmentation")

    embedding_dim = 64
    embedding = XVectorMFCC(dimension=embedding_dim)
    embedding.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=10.0
    )
    _save_pyannote_checkpoint(embedding, directory / "embedding")
    _write_random_plda(directory / "plda", embedding_dim, lda_dim=32, seed=seed)

    config = {
        "dependencies": {"pyannote.audio": "4.0.0"},
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {
                "clustering": "VBxClustering",
                "segmentation": "$model/segmentation",
                "embedding": "$model/embedding",
                "plda": "$model/plda",
                "segmentation_batch_size": 32,
                "embedding_batch_size": 32,
                "embedding_exclude_overlap": True,
            },
        },
        "params": {
            "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8},
            "segmentation": {"min_duration_off": 0.0},
        },
    }
    (directory / "config.yaml").write_text(yaml.safe_dump(config))
    return directory


def build_random_torchaudio_aligner(path: Path, seed: int = 0) -> Path:
    """Random weights with the architecture of torchaudio's WAV2VEC2_ASR_BASE_960H, saved (in
    float16, half the size) where the bundle looks for its download: ``path`` must keep the
    bundle's file name. 95 M parameters: only the registry path needs it."""
    import torch
    import torchaudio

    bundle = torchaudio.pipelines.WAV2VEC2_ASR_BASE_960H
    torch.manual_seed(seed)
    # The published file has fairseq's 32 output rows; the bundle drops 3 of them when loading.
    model = torchaudio.models.wav2vec2_model(**{**bundle._params, "aux_num_out": 32})
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.half() for k, v in model.state_dict().items()}, path)
    return path
