"""What a record is run through: a Prompt on its Model, a Model directly, or a plug-in target (RagConfig).

How an EvalSuite's targets combine:
  * a Prompt target renders its messages (or text template) with the record's fields, mapped to the
    Prompt's declared inputs by name, in the prompt sandbox with strict undefined values, and sends the
    result with the Prompt's ``config``. When the suite also targets a RagConfig, the Prompt's input with
    ``source: retrieved`` is filled with what the RagConfig retrieves for the record's ``source: user`` input;
  * a RagConfig target alone is a retrieval evaluation (the retrieval metric family);
  * a Model target alone sends the record's ``messages`` (or ``prompt``) to the Model as they are. Next
    to a Prompt, a Model target only says the suite must run when that Model changes.

Plug-ins register a target kind with ``register_target(kind, factory)``; ``factory(manifest, context)``
returns a ``Target``. A target that can feed a Prompt implements ``retrieve(query)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ..findings import Finding
from ..manifests.repository import EnvironmentState, Manifest
from ..pipeline.overrides import effective_spec
from .cases import Output
from .providers import CONFIG_PARAMS, GenerationRequest, ModelInfo, Provider

MAX_RENDERED_CHARS = 2_000_000


class TargetError(Exception):
    """A target cannot be built; carries findings."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


@dataclass
class TargetContext:
    root: Path
    env: EnvironmentState
    suite: Manifest

    def spec_of(self, manifest: Manifest) -> dict[str, Any]:
        """The manifest's spec with this environment's overrides applied: what runs here."""
        return effective_spec(manifest, self.env.environment)

    def model_info(self, manifest: Manifest) -> ModelInfo:
        return ModelInfo.from_spec(manifest.name or "?", manifest.version or "?", self.spec_of(manifest))

    def resolve_model(self, ref: Any, where: Manifest, path: tuple[str | int, ...]) -> ModelInfo:
        from ..manifests.ranges import RangeError, satisfies

        name = ref.get("name") if isinstance(ref, dict) else None
        wanted = ref.get("version") if isinstance(ref, dict) else None
        model = self.env.find("Model", name) if isinstance(name, str) else None
        if model is None or model.version is None:
            raise TargetError(
                [
                    where.finding(
                        path,
                        "eval/target",
                        f"{where.kind} {where.name}: Model {name!r} is not in environment {self.env.name}",
                    )
                ]
            )
        try:
            ok = isinstance(wanted, str) and satisfies(model.version, wanted)
        except RangeError:
            ok = False
        if not ok:
            raise TargetError(
                [where.finding(path, "eval/target", f"Model {name} {model.version} does not satisfy {wanted!r}")]
            )
        return self.model_info(model)


class Retriever(Protocol):
    async def retrieve(self, query: str) -> list[dict[str, Any]]: ...


class Target:
    """Base of every target."""

    kind = ""

    def __init__(self, manifest: Manifest, context: TargetContext) -> None:
        self.manifest = manifest
        self.context = context
        self.name = manifest.name or "?"
        self.version = manifest.version or "?"
        self.model: ModelInfo | None = None
        self.output_schema: dict[str, Any] | None = None
        self.retriever: Retriever | None = None

    @property
    def root(self) -> Path:
        return self.context.root

    @property
    def env(self) -> EnvironmentState:
        return self.context.env

    def describe(self) -> dict[str, Any]:
        out = {"kind": self.kind, "name": self.name, "version": self.version}
        if self.model is not None:
            out["model"] = self.model.ref
        return out

    async def execute(self, record: dict[str, Any], sample: int, provider: Provider | None) -> Output:
        raise NotImplementedError

    async def close(self) -> None:
        """Release what the target holds (indexes, connections)."""


TargetFactory = Callable[[Manifest, TargetContext], Target]
_TARGETS: dict[str, TargetFactory] = {}


def register_target(kind: str, factory: TargetFactory) -> None:
    _TARGETS[kind] = factory


def target_factory(kind: str) -> TargetFactory | None:
    if kind not in _TARGETS:
        from .plugins import load_plugins

        load_plugins()
    return _TARGETS.get(kind)


def prompt_params(config: Any) -> dict[str, Any]:
    """A Prompt's ``config`` as OpenAI request parameters."""
    config = config if isinstance(config, dict) else {}
    return {CONFIG_PARAMS[k]: v for k, v in config.items() if k in CONFIG_PARAMS and v is not None}


class PromptTarget(Target):
    kind = "Prompt"

    def __init__(self, manifest: Manifest, context: TargetContext) -> None:
        from jinja2 import TemplateSyntaxError

        from ..prompts.template import parse

        super().__init__(manifest, context)
        spec = context.spec_of(manifest)
        self.model = context.resolve_model(spec.get("modelRef"), manifest, ("spec", "modelRef"))
        self.type = spec.get("type", "chat")
        self.params = prompt_params(spec.get("config"))
        declared = spec.get("input")
        self.declared: dict[str, dict[str, Any]] = (
            {k: v for k, v in declared.items() if isinstance(v, dict)} if isinstance(declared, dict) else {}
        )
        output = spec.get("output")
        if isinstance(output, dict) and isinstance(output.get("schema"), dict):
            self.output_schema = output["schema"]
        self.retrieved_input = next((k for k, v in self.declared.items() if v.get("source") == "retrieved"), None)
        self.query_input = next(
            (k for k, v in self.declared.items() if v.get("source") == "user" and v.get("type") == "string"), None
        )
        # (role, template source, where) in order; a text prompt has a single template and no role
        parts: list[tuple[str, str, tuple[str | int, ...]]] = []
        if self.type == "text":
            if isinstance(spec.get("template"), str):
                parts.append(("", spec["template"], ("spec", "template")))
        else:
            for i, message in enumerate(spec.get("messages") or []):
                if isinstance(message, dict) and isinstance(message.get("content"), str):
                    parts.append(
                        (str(message.get("role", "user")), message["content"], ("spec", "messages", i, "content"))
                    )
        findings = []
        if not parts:
            findings.append(manifest.finding(("spec",), "eval/target", f"Prompt {self.name} has nothing to render"))
        for _, source, where in parts:
            tree = parse(source)
            if isinstance(tree, TemplateSyntaxError):
                findings.append(
                    manifest.finding(
                        where, "eval/target", f"Prompt {self.name}: template does not parse: {tree.message}"
                    )
                )
        if findings:
            raise TargetError(findings)
        self.parts = parts
        from ..prompts.template import compiled

        self.templates = [(role, compiled(source)) for role, source, _ in parts]
        # A template that only substitutes variables renders in time linear in its inputs: it needs
        # neither the sandbox's wall-clock deadline nor its range budget (two signal calls per render).
        self.straight = all(_substitution_only(parse(source)) for _, source, _ in parts)
        self.segments = [(role, _segments(parse(source))) for role, source, _ in parts] if self.straight else []

    def inputs(self, record: dict[str, Any]) -> dict[str, Any]:
        """Record fields mapped to the declared inputs by name, defaults filled in. A prompt that declares
        no inputs sees the whole record."""
        if not self.declared:
            return dict(record)
        values = {k: shape["default"] for k, shape in self.declared.items() if "default" in shape}
        values.update({k: record[k] for k in self.declared if k in record})
        return values

    def render(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        if self.straight:
            return [(role, _substitute(segments, values)) for role, segments in self.segments]
        from ..prompts.template import environment

        with environment().bounded():
            return self._render(values)

    def _render(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for role, template in self.templates:
            chunks, size = [], 0
            for chunk in template.generate(values):
                size += len(chunk)
                if size > MAX_RENDERED_CHARS:
                    raise OverflowError(f"the rendered prompt passes {MAX_RENDERED_CHARS} characters")
                chunks.append(chunk)
            out.append((role, "".join(chunks)))
        return out

    async def execute(self, record: dict[str, Any], sample: int, provider: Provider | None) -> Output:
        assert provider is not None
        values = self.inputs(record)
        context: list[dict[str, Any]] | None = None
        retrieval_ms = 0.0
        if self.retrieved_input is not None:
            if self.retrieved_input in record:
                context = _passages(record[self.retrieved_input])
            elif (
                self.retriever is not None
                and self.query_input is not None
                and isinstance(values.get(self.query_input), str)
            ):
                started = time.perf_counter()
                try:
                    context = await self.retriever.retrieve(values[self.query_input])
                except Exception as exc:  # a plug-in's failure is this case's error, not the run's
                    return Output(None, error=f"retrieval failed: {type(exc).__name__}: {exc}")
                retrieval_ms = (time.perf_counter() - started) * 1000.0
                values[self.retrieved_input] = context
        try:
            rendered = self.render(values)
        except Exception as exc:  # template code is user code: its failure belongs to this case
            return Output(None, error=f"prompt does not render: {_explain(exc)}", context=context)
        if self.type == "text":
            request = GenerationRequest.completion(rendered[0][1], self.params, sample)
            prompt: Any = rendered[0][1]
        else:
            messages = [{"role": role, "content": text} for role, text in rendered]
            request = GenerationRequest.chat(messages, self.params, sample)
            prompt = messages
        result = await provider.generate(request)
        return Output.answered(result, added_ms=retrieval_ms, context=context, prompt=prompt)


class ModelTarget(Target):
    kind = "Model"
    DEFAULT_PARAMS: ClassVar[dict[str, Any]] = {"temperature": 0, "max_tokens": 256}

    def __init__(self, manifest: Manifest, context: TargetContext) -> None:
        super().__init__(manifest, context)
        self.model = context.model_info(manifest)

    async def execute(self, record: dict[str, Any], sample: int, provider: Provider | None) -> Output:
        assert provider is not None
        messages = record.get("messages")
        if isinstance(messages, list) and all(
            isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
            for m in messages
        ):
            request = GenerationRequest.chat(messages, self.DEFAULT_PARAMS, sample)
        elif isinstance(record.get("prompt"), str):
            request = GenerationRequest.completion(record["prompt"], self.DEFAULT_PARAMS, sample)
        else:
            return Output(None, error="a Model target reads the record's `messages` (role/content list) or `prompt`")
        result = await provider.generate(request)
        return Output.answered(result, prompt=request.to_json().get("messages") or request.prompt)


register_target("Prompt", PromptTarget)
register_target("Model", ModelTarget)


def _substitution_only(tree: Any) -> bool:
    """True when a parsed template is text and plain ``{{ name }}`` outputs, nothing else."""
    from jinja2 import nodes

    allowed = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name)
    return all(isinstance(node, allowed) for node in tree.find_all(nodes.Node)) and isinstance(tree, nodes.Template)


def _segments(tree: Any) -> list[tuple[bool, str]]:
    """A substitution-only template as (is a variable, text or name) pieces, in order."""
    from jinja2 import nodes

    out: list[tuple[bool, str]] = []
    for output in tree.body:
        for node in output.nodes:
            out.append((True, node.name) if isinstance(node, nodes.Name) else (False, node.data))
    return out


def _substitute(segments: list[tuple[bool, str]], values: dict[str, Any]) -> str:
    """What Jinja renders for a substitution-only template (``str()`` of each value, an UndefinedError
    naming a missing one), without building a template context per record."""
    from jinja2.exceptions import UndefinedError

    parts = []
    for is_name, text in segments:
        if not is_name:
            parts.append(text)
        elif text in values:
            parts.append(str(values[text]))
        else:
            raise UndefinedError(f"{text!r} is undefined")
    return "".join(parts)


def _passages(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict):
                out.append(item)
            elif isinstance(item, str):
                out.append({"text": item})
        return out
    if isinstance(value, str):
        return [{"text": value}]
    return None


def _explain(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return (
        text
        if type(exc).__name__ in ("UndefinedError", "SecurityError", "RenderTimeout")
        else f"{type(exc).__name__}: {text}"
    )
