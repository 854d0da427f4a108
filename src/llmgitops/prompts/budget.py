"""Token counting for budgets: the Model's own tokenizer when it is installed, else a stated estimate.

A Model whose weights ship in a Python distribution (``spec.weights.package``) usually ships its
``tokenizer.json`` beside them; when that distribution is installed at the declared version, the
``tokenizers`` package counts exactly. Otherwise the count is an estimate of one token per 3 bytes of
UTF-8, which over-counts ordinary text for every common tokenizer (about 4 bytes per token in English),
so a prompt that passes the estimate passes the real count too in all but adversarial text.
"""

from __future__ import annotations

import importlib.metadata
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..manifests.repository import Manifest
from ..manifests.source import unsafe_reference

BYTES_PER_TOKEN = 3
# Chat formatting: role markers and separators around each message, and the priming of the reply
# (OpenAI's published count for chat models; other chat templates are within a few tokens of it).
TOKENS_PER_MESSAGE = 4
TOKENS_PER_REPLY = 3


@dataclass(frozen=True)
class TokenCounter:
    exact: bool
    source: str  # which tokenizer, or why the count is an estimate
    tokenizer: Any = None

    def count(self, text: str) -> int:
        if self.tokenizer is not None:
            return len(self.tokenizer.encode(text, add_special_tokens=False).ids)
        return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)

    def overhead(self, parts: list[str], chat: bool) -> int:
        return TOKENS_PER_MESSAGE * len(parts) + TOKENS_PER_REPLY if chat else 0

    def count_prompt(self, parts: list[str], chat: bool) -> int:
        return sum(self.count(p) for p in parts) + self.overhead(parts, chat)

    def ceiling(self, parts: list[str], chat: bool) -> int:
        """An upper bound on ``count_prompt`` that needs no tokenizer.

        Tokenizers emit at most one token per UTF-8 byte (byte-level BPE, WordPiece and SentencePiece
        with byte fallback all consume at least a byte per token), so a prompt whose byte length fits
        the window fits it, and most prompts are settled without tokenizing anything.
        """
        size = sum(len(p.encode("utf-8")) for p in parts)
        if self.tokenizer is None:
            size = math.ceil(size / BYTES_PER_TOKEN)
        return size + self.overhead(parts, chat)

    def largest(self, candidates: list[tuple[str, list[str]]], chat: bool) -> tuple[str, int]:
        """The candidate prompt with the most tokens, tokenizing only those that could be it."""
        ranked = sorted(candidates, key=lambda c: self.ceiling(c[1], chat), reverse=True)
        best_label, best = ranked[0][0], -1
        for label, parts in ranked:
            if self.ceiling(parts, chat) <= best:
                break
            tokens = self.count_prompt(parts, chat)
            if tokens > best:
                best_label, best = label, tokens
        return best_label, best

    def describe(self) -> str:
        return self.source if self.exact else f"estimated at {BYTES_PER_TOKEN} bytes per token: {self.source}"


def estimate(reason: str) -> TokenCounter:
    return TokenCounter(False, reason)


def counter_for(model: Manifest) -> TokenCounter:
    weights = model.spec.get("weights")
    package = weights.get("package") if isinstance(weights, dict) else None
    if not isinstance(package, dict):
        return estimate(f"Model {model.name!r} ships no tokenizer.json in an installed package")
    name, version, relpath = package.get("name"), package.get("version"), package.get("path")
    if not (isinstance(name, str) and isinstance(version, str) and isinstance(relpath, str)):
        return estimate(f"Model {model.name!r} has an incomplete weights.package")
    found, reason = find_tokenizer(name, version, relpath)
    if found is None:
        return estimate(reason)
    tokenizer, problem = load_tokenizer(str(found))
    if tokenizer is None:
        return estimate(problem)
    return TokenCounter(True, f"counted with {name} {version}'s tokenizer.json", tokenizer)


def _same_version(installed: str, declared: str) -> bool:
    if installed == declared:
        return True
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return False
    try:
        return Version(installed) == Version(declared)
    except InvalidVersion:
        return False


@lru_cache(maxsize=64)
def find_tokenizer(name: str, version: str, relpath: str) -> tuple[Path | None, str]:
    """The tokenizer.json of an installed distribution's model files, or why there is none."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None, f"distribution {name!r} is not installed"
    if not _same_version(dist.version, version):
        return None, f"{name} {dist.version} is installed but the Model names {version}"
    problem = unsafe_reference(relpath)
    if problem is not None:
        return None, f"weights.package.path {relpath!r}: {problem}"
    base = Path(str(dist.locate_file(relpath)))
    folder = base if base.is_dir() else base.parent
    for candidate in (folder / "tokenizer.json", *sorted(folder.glob("*/tokenizer.json"))):
        if candidate.is_file():
            return candidate, ""
    return None, f"no tokenizer.json under {relpath} in {name} {dist.version}"


@lru_cache(maxsize=16)
def load_tokenizer(path: str) -> tuple[Any, str]:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        return None, "the tokenizers package is not installed"
    try:
        tokenizer = Tokenizer.from_file(path)
    except Exception as exc:  # a corrupt or foreign tokenizer.json: fall back to the estimate, say why
        return None, f"{path} does not load: {exc}"
    # Counting needs every token: tokenizer.json files often carry the embedding model's truncation.
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer, ""
