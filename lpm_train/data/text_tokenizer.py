"""Caption text to model input.

Default: a hashed word tokenizer (no vocabulary file to ship or download; collisions are rare
at 4k buckets for captions of a few dozen words) feeding a learned embedding in the model.
Option: a pretrained sentence encoder from a local HuggingFace directory, whose token
embeddings the model projects; it is loaded only when asked for.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Protocol

import torch

PAD_ID = 0
WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


class CaptionEncoder(Protocol):
    """``encode(text) -> (tokens, valid)``: tokens are ids [L] (long) or embeddings [L, dim]."""

    dim: int  # 0 for token ids
    vocab: int
    max_tokens: int

    def encode(self, text: str) -> tuple[torch.Tensor, torch.Tensor]: ...


class HashedWordTokenizer:
    def __init__(self, vocab: int = 4096, max_tokens: int = 32):
        if vocab < 3:
            raise ValueError("vocab must leave room for padding")
        self.vocab, self.max_tokens, self.dim = vocab, max_tokens, 0

    def token_id(self, word: str) -> int:
        # crc32 is stable across processes and Python versions, unlike hash().
        return 1 + zlib.crc32(word.encode("utf-8")) % (self.vocab - 1)

    def encode(self, text: str) -> tuple[torch.Tensor, torch.Tensor]:
        words = WORD_RE.findall(text.lower())[: self.max_tokens]
        ids = torch.full((self.max_tokens,), PAD_ID, dtype=torch.long)
        if words:
            ids[: len(words)] = torch.tensor([self.token_id(w) for w in words])
        return ids, ids != PAD_ID


class SentenceEncoder:
    """Token embeddings from a local pretrained encoder (e.g. a MiniLM sentence model)."""

    def __init__(self, model_dir: str | Path, max_tokens: int = 32):
        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"no sentence encoder at {path}; set data.sentence_encoder_path to a local "
                "HuggingFace model directory or use data.text_encoder=hashed"
            )
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self.max_tokens, self.vocab = max_tokens, 0
        self.dim = int(self.model.config.hidden_size)

    @torch.no_grad()
    def encode(self, text: str) -> tuple[torch.Tensor, torch.Tensor]:
        batch = self.tokenizer(
            text or "", max_length=self.max_tokens, padding="max_length", truncation=True, return_tensors="pt"
        )
        hidden = self.model(**batch).last_hidden_state[0]
        valid = batch["attention_mask"][0].bool()
        return hidden * valid.unsqueeze(-1), valid


def build_caption_encoder(kind: str, vocab: int, max_tokens: int, sentence_encoder_path: str) -> CaptionEncoder:
    if kind == "sentence":
        return SentenceEncoder(sentence_encoder_path, max_tokens)
    return HashedWordTokenizer(vocab, max_tokens)
