"""Tokenizers fitted on the train split: byte-pair encoding (default) or characters.

GPT-f used the GPT-3 BPE.  Ours is fitted on the train split's proof-step text with Hugging Face
``tokenizers``: Metamath symbols are whitespace-separated, so a Metaspace pre-tokenizer keeps every
symbol/label a word and BPE learns frequent labels (``syl``, ``mpbir``) and symbols (``->``, ``e.``) as
single tokens.  The character tokenizer is the simple alternative; on set.mm it needs about twice the
tokens per example (212 vs 101; 28% vs 5% of examples exceed 256 tokens; docs/prover.md), which is why
BPE is the default: attention and sampling cost grow with sequence length and the CPU budget is small.  The format keywords (``GOAL``,
``PROOFSTEP``, ``{{`` ...) are single special tokens in both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ilya.core.errors import IlyaError
from ilya.prover.format import KEYWORDS

if TYPE_CHECKING:
    from tokenizers import Tokenizer as HFTokenizer

EOS, PAD = "<eos>", "<pad>"
SPECIALS = (PAD, EOS, *KEYWORDS)


class Tokenizer(Protocol):
    kind: str
    vocab_size: int
    eos_id: int
    pad_id: int

    def encode(self, text: str) -> list[int]: ...
    def decode(self, ids: Iterable[int]) -> str: ...
    def token_id(self, token: str) -> int: ...
    def save(self, path: Path) -> None: ...


class CharTokenizer:
    """One token per character; keywords (``GOAL`` ...) are one token each."""

    kind = "char"

    def __init__(self, chars: Iterable[str]) -> None:
        self.itos = [*SPECIALS, *sorted(set(chars) - set(SPECIALS))]
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        self.vocab_size = len(self.itos)
        self.eos_id, self.pad_id = self.stoi[EOS], self.stoi[PAD]
        self._unk = self.stoi.get("?", self.pad_id)

    @classmethod
    def fit(cls, texts: Iterable[str], vocab_size: int = 0) -> CharTokenizer:
        chars: set[str] = set()
        for t in texts:
            chars.update(t)
        return cls(chars)

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        for k, word in enumerate(text.split(" ")):
            if k:
                out.append(self.stoi.get(" ", self._unk))
            if word in self.stoi and word in SPECIALS:
                out.append(self.stoi[word])
            else:
                out.extend(self.stoi.get(c, self._unk) for c in word)
        return out

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.itos[i] for i in ids if 0 <= i < self.vocab_size and i != self.pad_id
                       and i != self.eos_id)

    def token_id(self, token: str) -> int:
        return self.stoi[token]

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"kind": "char", "itos": self.itos}))


class BPETokenizer:
    """Byte-pair encoding over Metamath text (Hugging Face ``tokenizers``)."""

    kind = "bpe"

    def __init__(self, tok: HFTokenizer) -> None:
        self._tok = tok
        self.vocab_size = tok.get_vocab_size()
        self.eos_id, self.pad_id = self.token_id(EOS), self.token_id(PAD)

    @classmethod
    def fit(cls, texts: Iterable[str], vocab_size: int = 2000) -> BPETokenizer:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, pre_tokenizers, trainers

        tok = HFTokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIALS),
                                      show_progress=False)
        tok.train_from_iterator(texts, trainer=trainer)
        return cls(tok)

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text).ids

    def decode(self, ids: Iterable[int]) -> str:
        ids = [i for i in ids if i != self.pad_id and i != self.eos_id]
        # keywords are special tokens: keep them, and keep words apart around them
        return " ".join(self._tok.decode(ids, skip_special_tokens=False).split())

    def token_id(self, token: str) -> int:
        i = self._tok.token_to_id(token)
        if i is None:
            raise KeyError(token)
        return i

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"kind": "bpe", "hf": json.loads(self._tok.to_str())}))


TOKENIZERS: dict[str, type] = {"bpe": BPETokenizer, "char": CharTokenizer}


def fit_tokenizer(kind: str, texts: Iterable[str], vocab_size: int = 2000) -> Tokenizer:
    if kind not in TOKENIZERS:
        raise IlyaError(f"--tokenizer {kind}: expected one of {', '.join(TOKENIZERS)}")
    return TOKENIZERS[kind].fit(texts, vocab_size)


def load_tokenizer(path: Path) -> Tokenizer:
    """Read a tokenizer written by ``save``."""
    try:
        blob = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise IlyaError(f"cannot read tokenizer: {e}", file=path) from None
    if blob.get("kind") == "char":
        t = CharTokenizer([])
        t.itos = list(blob["itos"])
        t.stoi = {s: i for i, s in enumerate(t.itos)}
        t.vocab_size = len(t.itos)
        t.eos_id, t.pad_id = t.stoi[EOS], t.stoi[PAD]
        t._unk = t.stoi.get("?", t.pad_id)
        return t
    if blob.get("kind") == "bpe":
        from tokenizers import Tokenizer as HFTokenizer

        return BPETokenizer(HFTokenizer.from_str(json.dumps(blob["hf"])))
    raise IlyaError("not an ilya prover tokenizer", file=path)
