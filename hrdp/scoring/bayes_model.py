"""The ``bayes`` model file: per-token ham and spam counts, saved and loaded.

The model is a JSON file (gzip when its name ends in ``.gz``), never a pickle, so a
model from an untrusted place can only be wrong, not run code. docs/scorers.md
documents the format; ``BayesModel.load`` checks every field and bounds every size.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hrdp.atomic import replace_bytes
from hrdp.errors import ScorerError
from hrdp.scoring.tokens import TOKENIZER_VERSION, tokenize

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

FORMAT = "hrdp-bayes"
VERSION = 1
MAX_FILE_BYTES = 256 << 20  # decompressed: a gzip bomb or a giant file is refused
MAX_COUNT = 1 << 40  # no real mailbox has this many messages; bigger numbers are a forgery
_GZIP_MAGIC = b"\x1f\x8b"


class BayesModel:
    """Per-token counts of the ham and spam messages that held the token."""

    def __init__(self) -> None:
        self.spam_count = 0
        self.ham_count = 0
        self.tokens: dict[str, list[int]] = {}  # token -> [spam messages, ham messages]

    def learn(self, message: ParsedMessage, spam: bool) -> None:
        """Count one message (each of its tokens once) as spam or ham."""
        self.learn_tokens(tokenize(message), spam)

    def learn_tokens(self, tokens: Iterable[str], spam: bool) -> None:
        column = 0 if spam else 1
        table = self.tokens
        for token in tokens:
            counts = table.get(token)
            if counts is None:
                table[token] = counts = [0, 0]
            counts[column] += 1
        if spam:
            self.spam_count += 1
        else:
            self.ham_count += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "tokenizer": TOKENIZER_VERSION,
            "spam_count": self.spam_count,
            "ham_count": self.ham_count,
            "tokens": dict(sorted(self.tokens.items())),
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model atomically: a temporary file in the same folder, then rename."""
        target = Path(path)
        data = json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
        if target.name.endswith(".gz"):
            data = gzip.compress(data, compresslevel=6, mtime=0)
        replace_bytes(target, data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BayesModel:
        """Read a model file; ScorerError (one line) when it is missing or not a valid model."""
        try:
            document = json.loads(_read_bounded(Path(path)), parse_constant=_no_constant)
            return cls.from_json(document)
        except FileNotFoundError:
            message = f"bayes model {path}: no such file (create it with hrdp train)"
            raise ScorerError(message) from None
        except ScorerError as exc:
            raise ScorerError(f"bayes model {path}: {exc}") from None
        except (OSError, EOFError, ValueError, RecursionError) as exc:
            reason = " ".join(str(exc).split())[:120] or type(exc).__name__
            raise ScorerError(f"bayes model {path}: not a readable model ({reason})") from None

    @classmethod
    def from_json(cls, document: object) -> BayesModel:
        """Check a decoded model document field by field (ScorerError on the first fault)."""
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ScorerError(f"not an hrdp bayes model (no \"format\": \"{FORMAT}\")")
        version = document.get("version")
        if version != VERSION:
            raise ScorerError(f"unsupported version {shown(version)} (this hrdp reads {VERSION})")
        if document.get("tokenizer") != TOKENIZER_VERSION:
            raise ScorerError(
                f"trained with tokenizer {shown(document.get('tokenizer'))}, this hrdp uses "
                f"{TOKENIZER_VERSION}: train a new model"
            )
        model = cls()
        model.spam_count = _count(document.get("spam_count"), MAX_COUNT, "spam_count")
        model.ham_count = _count(document.get("ham_count"), MAX_COUNT, "ham_count")
        tokens = document.get("tokens")
        if not isinstance(tokens, dict):
            raise ScorerError("\"tokens\" is not an object")
        for token, counts in tokens.items():
            if not isinstance(counts, list) or len(counts) != 2:
                raise ScorerError(f"token {shown(token)}: counts are not [spam, ham]")
            spam = _count(counts[0], model.spam_count, f"token {shown(token)} spam count")
            ham = _count(counts[1], model.ham_count, f"token {shown(token)} ham count")
            model.tokens[token] = [spam, ham]
        return model


def _read_bounded(path: Path) -> bytes:
    with path.open("rb") as raw:
        head = raw.read(2)
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if head == _GZIP_MAGIC else raw
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ScorerError(f"larger than {MAX_FILE_BYTES >> 20} MiB, refused")
    return data


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a count")


def shown(value: object) -> str:
    """repr(value), cut to 40 characters: a forged file cannot flood an error message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count(value: object, limit: int, label: str) -> int:
    if type(value) is not int or not 0 <= value <= limit:
        raise ScorerError(f"{label} {shown(value)} is not a whole number in 0..{limit}")
    return value
