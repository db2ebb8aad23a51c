import dataclasses
import io
import random
import wave

import numpy as np
import pytest
import torch
from conftest import tiny_config
from lpm_tiny_models import conditions

from lpm_train.data.audio_features import LogMelFrames, Wav2Vec2Frames, read_wav
from lpm_train.data.sample_decoder import SampleDecoder
from lpm_train.data.shard_stream import read_shard_samples
from lpm_train.data.text_tokenizer import HashedWordTokenizer, SentenceEncoder
from lpm_train.model_factory import build_model, condition_dims

RATE = 16_000


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype(np.int16).tobytes())
    return buffer.getvalue()


def test_log_mel_rows_are_aligned_to_video_frames():
    t = np.arange(RATE) / RATE
    burst = ((t >= 0.40) & (t < 0.48)) * 0.5 * np.sin(2 * np.pi * 1000 * t)  # video frames 10 and 11
    features = LogMelFrames(n_mels=32, mel_per_frame=2)(read_wav(wav_bytes(burst)), 25.0, 25)
    assert features.shape == (25, 64)
    energy = features.mean(dim=1)
    loud = set(torch.topk(energy, 2).indices.tolist())
    assert loud == {10, 11}
    assert float(energy[[0, 5, 15, 20]].max()) < float(energy[[10, 11]].min()) - 0.5


def test_wav_reader_resamples_and_mixes_down():
    stereo = np.stack([np.full(8000, 0.5), np.full(8000, -0.5)], axis=1).reshape(-1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((stereo * 32767).astype(np.int16).tobytes())
    audio = read_wav(buffer.getvalue())
    assert audio.numel() == RATE and float(audio.abs().max()) < 1e-3


TINY_WAV2VEC2 = {
    "extractor_mode": "group_norm",
    "extractor_conv_layer_config": [
        (16, 10, 5),
        (16, 3, 2),
        (16, 3, 2),
        (16, 3, 2),
        (16, 3, 2),
        (16, 2, 2),
        (16, 2, 2),
    ],
    "extractor_conv_bias": False,
    "encoder_embed_dim": 24,
    "encoder_projection_dropout": 0.0,
    "encoder_pos_conv_kernel": 16,
    "encoder_pos_conv_groups": 4,
    "encoder_num_layers": 1,
    "encoder_num_heads": 2,
    "encoder_attention_dropout": 0.0,
    "encoder_ff_interm_features": 32,
    "encoder_ff_interm_dropout": 0.0,
    "encoder_dropout": 0.0,
    "encoder_layer_norm_first": False,
    "encoder_layer_drop": 0.0,
    "aux_num_out": None,
}


def test_wav2vec2_encoder_option_runs_from_given_weights(media_shards, tmp_path):
    import torchaudio

    torch.manual_seed(0)
    encoder = torchaudio.models.wav2vec2_model(**TINY_WAV2VEC2)
    weights = tmp_path / "wav2vec2.pt"
    torch.save({"arch": TINY_WAV2VEC2, "state_dict": encoder.state_dict()}, weights)
    frames = Wav2Vec2Frames(weights)
    speech = read_wav(next(iter(read_shard_samples(media_shards["paths"]["train"][0]))).members["wav"])
    features = frames(speech, 25.0, 50)
    assert features.shape == (50, 24) and bool(torch.isfinite(features).all())
    assert float(features.std(dim=0).mean()) > 0  # varies over time, not a constant

    config = tiny_config(tmp_path, media_shards, "data.audio_encoder=wav2vec2", f"data.wav2vec2_checkpoint={weights}")
    assert condition_dims(config.data).audio == 24
    raw = next(iter(read_shard_samples(config.data.shards[0])))
    decoder = SampleDecoder(config.data)
    sample = decoder.decode(raw, decoder.shape_of(raw), random.Random(0))
    assert sample.audio_speak.shape == (8, 24)

    with pytest.raises(FileNotFoundError, match=r"data\.wav2vec2_checkpoint"):
        Wav2Vec2Frames(tmp_path / "missing.pt")


def test_hashed_tokenizer_is_stable_and_pads():
    tokenizer = HashedWordTokenizer(vocab=4096, max_tokens=6)
    ids, valid = tokenizer.encode("She smiles, then nods.")
    assert valid.tolist() == [True] * 6  # she smiles , then nods .
    again, _ = HashedWordTokenizer(4096, 6).encode("she SMILES, then nods.")
    assert torch.equal(ids, again)
    short, short_valid = tokenizer.encode("listens")
    assert short_valid.tolist() == [True] + [False] * 5 and int(short[1:].sum()) == 0
    words = ["the", "person", "talks", "listens", "smiles", "nods", "laughs", "frowns", "blinks", "speaks"]
    assert len({tokenizer.token_id(w) for w in words}) == len(words)


def test_sentence_encoder_option_feeds_the_model(tmp_path):
    transformers = pytest.importorskip("transformers", reason="the sentence-encoder option needs transformers")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "woman", "talks", "to", "the", "camera"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab))
    transformers.BertTokenizerFast(str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(tmp_path)

    encoder = SentenceEncoder(tmp_path, max_tokens=8)
    embeddings, valid = encoder.encode("a woman talks to the camera")
    assert embeddings.shape == (8, 16) and valid.tolist() == [True] * 8
    shorter, shorter_valid = encoder.encode("a woman")
    assert int(shorter_valid.sum()) == 4 and float(shorter[4:].abs().sum()) == 0.0

    train_config = tiny_config(
        tmp_path, None, "data.text_encoder=sentence", f"data.sentence_encoder_path={tmp_path}", "data.text_max_tokens=8"
    )
    dims = condition_dims(train_config.data)
    assert (dims.text_dim, dims.text_vocab) == (16, 0)
    model = build_model(train_config)
    cond = dataclasses.replace(
        conditions(b=1, t=8),
        text=embeddings.unsqueeze(0),
        text_valid=valid.unsqueeze(0),
        audio_speak=torch.zeros(1, 8, 64),
        audio_listen=torch.zeros(1, 8, 64),
    )
    out = model(torch.randn(1, 8, 3, 16, 16), torch.full((1,), 0.5), cond)
    assert out.shape == (1, 8, 3, 16, 16)
