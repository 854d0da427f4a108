"""Linting one Prompt manifest, and every Prompt of an environment."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from ..config import IGNORE_ANNOTATION, configure
from ..findings import Finding, Severity, sort_findings
from ..manifests.kinds import KINDS
from ..manifests.ranges import RangeError, parse_range
from ..manifests.repository import EnvironmentState, Manifest, Repository
from ..manifests.source import Source, WorkingTree
from ..rules import RULES
from . import injection, structure
from .budget import TokenCounter, counter_for
from .render import (
    RenderFailure,
    check_value,
    declared_sample,
    describe_problem,
    maximal_sample,
    render,
    with_defaults,
)
from .scalars import DocumentPositions, JsonPath
from .secrets import scan
from .template import Template, disk_cache, environment, templates_of
from .variables import Analysis, Problem, analyze_source

Shape = dict[str, Any]
PROMPTS_FOLDER = KINDS["Prompt"].folder


@dataclass
class PromptLint:
    """The state of linting one Prompt: its templates, declarations and the findings so far."""

    manifest: Manifest
    state: EnvironmentState | None
    findings: list[Finding] = field(default_factory=list)

    @cached_property
    def positions(self) -> DocumentPositions:
        return DocumentPositions(self.manifest.document)

    @property
    def spec(self) -> dict[str, Any]:
        return self.manifest.spec

    @cached_property
    def declared(self) -> dict[str, Shape]:
        raw = self.spec.get("input")
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, dict)}

    @cached_property
    def user_inputs(self) -> frozenset[str]:
        return frozenset(k for k, v in self.declared.items() if v.get("source") == "user")

    @cached_property
    def templates(self) -> list[Template]:
        return templates_of(self.spec, self.positions)

    @cached_property
    def examples(self) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
        """(index, example, its input) for each well-formed example."""
        raw = self.spec.get("examples")
        out = []
        for i, example in enumerate(raw if isinstance(raw, list) else []):
            if isinstance(example, dict):
                given = example.get("input")
                out.append((i, example, given if isinstance(given, dict) else {}))
        return out

    def add(self, pos: tuple[int, int], rule: str, severity: Severity, message: str,
            hint: str | None = None) -> None:
        self.findings.append(Finding(self.manifest.relpath, pos[0], pos[1], rule, severity, message, hint))

    def at(self, path: JsonPath, key: bool = False) -> tuple[int, int]:
        doc = self.manifest.document
        return doc.key_position(path) if key else doc.position(path)


def _example_label(i: int, example: Mapping[str, Any]) -> str:
    name = example.get("name")
    return f"example {name!r}" if isinstance(name, str) else f"example {i}"


def _problem_position(template: Template, problem: Problem) -> tuple[int, int]:
    if problem.token is None:
        return template.at_line(problem.lineno)
    if problem.token_kind == "string":
        for quoted in (f"'{problem.token}'", f'"{problem.token}"'):
            token = template.find_token(problem.lineno, quoted, "string")
            if token is not None:
                return template.at(token.offset)
        return template.at_line(problem.lineno)
    return template.at_name(problem.lineno, problem.token)


def check_templates(lint: PromptLint) -> dict[int, Analysis]:
    """Syntax, variables, attribute types, sandbox escapes and injection hygiene, per template."""
    builtins = frozenset(environment().globals)
    analyses: dict[int, Analysis] = {}
    for index, template in enumerate(lint.templates):
        error = template.syntax_error
        if error is not None:
            pos = template.at_line(error.lineno or 1)
            lint.add(pos, "prompt/template-syntax", Severity.ERROR,
                     f"{template.label} does not parse: {error.message} (template line {error.lineno})",
                     "Jinja2 syntax: {{ variable }}, {% if … %}…{% endif %}; "
                     "write a literal {{ as {{ '{{' }}")
            continue
        analysis = analyze_source(template.source, lint.declared, lint.user_inputs, builtins)
        analyses[index] = analysis
        for problem in analysis.problems:
            lint.add(_problem_position(template, problem), problem.rule, RULES[problem.rule].severity,
                     problem.message, problem.hint)
        for name, lineno in analysis.undeclared.items():
            lint.add(template.at_name(lineno, name), "prompt/undeclared-variable", Severity.ERROR,
                     f"{template.label} uses {name!r}, which spec.input does not declare",
                     f"declare it: input: {{{name}: {{type: string, required: true}}}}")
        lint.findings.extend(injection.check(template, analysis.sites, lint.manifest.relpath))
    return analyses


def check_variables(lint: PromptLint, analyses: dict[int, Analysis]) -> None:
    used: set[str] = set()
    for analysis in analyses.values():
        used.update(u.name for u in analysis.uses)
    parsed_all = len(analyses) == len(lint.templates)
    for name, shape in lint.declared.items():
        if name not in used and parsed_all:
            lint.add(lint.at(("spec", "input", name), key=True), "prompt/unused-variable", Severity.WARNING,
                     f"input {name!r} is declared but no template uses it",
                     "remove the declaration, or use the variable in a message")
        if shape.get("required") is True or "default" in shape:
            continue
        for index, analysis in analyses.items():
            unguarded = next((u for u in analysis.uses if u.name == name and not u.guarded), None)
            if unguarded is not None:
                template = lint.templates[index]
                lint.add(template.at_name(unguarded.lineno, name), "prompt/unguarded-optional",
                         Severity.WARNING,
                         f"optional input {name!r} has no default and is used unguarded in {template.label}",
                         f"guard it ({{% if {name} %}}…{{% endif %}}), give it a default, "
                         f"or use {{{{ {name} | default('') }}}}")
                break


def check_inputs(lint: PromptLint) -> list[int]:
    """Example inputs and defaults against the declarations; the examples fit to render."""
    for name, shape in lint.declared.items():
        if "default" in shape and shape["default"] is not None:
            for rel, what, expected in check_value(shape["default"], shape):
                lint.add(lint.at(("spec", "input", name, "default", *rel)), "prompt/default-type",
                         Severity.ERROR, f"the default of {describe_problem(name, rel, what, expected)}")
    renderable: list[int] = []
    for i, example, given in lint.examples:
        label = _example_label(i, example)
        base: JsonPath = ("spec", "examples", i, "input")
        before = len(lint.findings)
        for name, value in given.items():
            declaration = lint.declared.get(name)
            if declaration is None:
                lint.add(lint.at((*base, name), key=True), "prompt/example-input", Severity.ERROR,
                         f"{label} sets {name!r}, which spec.input does not declare")
                continue
            for rel, what, expected in check_value(value, declaration):
                lint.add(lint.at((*base, name, *rel)), "prompt/example-input", Severity.ERROR,
                         f"{label}: {describe_problem(name, rel, what, expected)}")
        for name, shape in lint.declared.items():
            if shape.get("required") is True and "default" not in shape and name not in given:
                where = base if "input" in example else ("spec", "examples", i)
                lint.add(lint.at(where), "prompt/example-input", Severity.ERROR,
                         f"{label} omits required input {name!r}")
        if len(lint.findings) == before:
            renderable.append(i)
    return renderable


def check_rendering(lint: PromptLint, renderable: list[int],
                    static_errors: bool) -> list[tuple[str, list[str]]]:
    """Render each example and the declared defaults; return what rendered, for the token budget."""
    if not lint.templates or any(t.syntax_error is not None for t in lint.templates):
        return []
    rendered: list[tuple[str, list[str]]] = []
    samples: list[tuple[str, JsonPath | None, dict[str, Any]]] = []
    by_index = {i: (example, given) for i, example, given in lint.examples}
    for i in renderable:
        example, given = by_index[i]
        context = with_defaults(lint.declared, given)
        samples.append((_example_label(i, example), ("spec", "examples", i), context))
    if not static_errors:
        # With a static error already reported, placeholders would only fail on the same line again.
        samples.append(("the declared defaults and placeholder values", None, declared_sample(lint.declared)))
    failed: set[tuple[JsonPath, int | None]] = set()
    for label, where, context in samples:
        result = render(lint.templates, context)
        if isinstance(result, RenderFailure):
            spot = (result.template.path, result.lineno)
            if spot not in failed:  # one finding per failing line, not one per example that hits it
                failed.add(spot)
                _render_failure(lint, label, where, result)
            continue
        rendered.append((label, result))
    return rendered


def _render_failure(lint: PromptLint, label: str, where: JsonPath | None, failure: RenderFailure) -> None:
    template = failure.template
    pos = template.at_line(failure.lineno) if failure.lineno else lint.at(template.path)
    if where is not None:
        label += f" (line {lint.at(where)[0]})"
    lint.add(pos, "prompt/render-error", Severity.ERROR,
             f"{template.label} fails to render with {label}: {failure.message}",
             "every example must render with strict undefined: supply the value, or guard it in the template")


@lru_cache(maxsize=1024)
def _output_validator(canonical: str) -> tuple[Any, str | None, JsonPath]:
    """A validator for a schema (given as canonical JSON), or why the schema is invalid and where.

    Checking a schema against the 2020-12 meta-schema costs more than linting the rest of a prompt;
    promoted prompts repeat their schemas across environments, so each distinct schema is checked once.
    """
    from jsonschema import validators
    from jsonschema.exceptions import SchemaError

    schema = json.loads(canonical)
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    fast = cls is validators.Draft202012Validator and not _needs_full_check(schema)
    if fast and _draft7_meta().is_valid(schema):
        return cls(schema), None, ()
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        return None, exc.message, tuple(exc.path)
    return cls(schema), None, ()


@lru_cache(maxsize=1)
def _draft7_meta() -> Any:
    from jsonschema import validators

    meta = validators.Draft7Validator
    return meta(meta.META_SCHEMA, format_checker=meta.FORMAT_CHECKER)


# Keywords whose meta-schema differs between draft-07 and 2020-12 (or that draft-07 does not know).
_DRAFT_2020_KEYWORDS = frozenset({
    "prefixItems", "$defs", "dependentSchemas", "dependentRequired", "unevaluatedProperties",
    "unevaluatedItems", "contentSchema", "$anchor", "$dynamicRef", "$dynamicAnchor", "minContains",
    "maxContains", "$vocabulary", "$id", "$recursiveRef", "$recursiveAnchor",
})


def _needs_full_check(schema: Any) -> bool:
    """Whether a schema uses anything the draft-07 meta-schema would judge differently from 2020-12's.

    The 2020-12 meta-schema resolves $dynamicRef through seven vocabulary documents and costs about
    five times the draft-07 one. For schemas made of the keywords both drafts define alike, draft-07's
    verdict is the same, so it is the fast path; a schema it rejects still gets the 2020-12 verdict.
    """
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if not _DRAFT_2020_KEYWORDS.isdisjoint(node) or isinstance(node.get("items"), list):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def check_output_schema(lint: PromptLint) -> None:
    output = lint.spec.get("output")
    if not isinstance(output, dict) or output.get("format") != "json":
        return
    if not isinstance(output.get("schema"), dict):
        return
    try:
        canonical = json.dumps(output["schema"], sort_keys=True)
    except ValueError as exc:  # NaN or infinity: not JSON at all
        lint.add(lint.at(("spec", "output", "schema")), "prompt/invalid-output-schema", Severity.ERROR,
                 f"output.schema is not JSON: {exc}")
        return
    validator, problem, where = _output_validator(canonical)
    if validator is None:
        lint.add(lint.at(("spec", "output", "schema", *where)), "prompt/invalid-output-schema",
                 Severity.ERROR, f"output.schema is not a valid JSON Schema: {problem}")
        return
    for i, example, _ in lint.examples:
        if "expected" not in example:
            continue
        where_expected: JsonPath = ("spec", "examples", i, "expected")
        expected = example["expected"]
        label = _example_label(i, example)
        from_text = isinstance(expected, str)
        if from_text:
            try:
                expected = json.loads(expected)
            except ValueError as exc:
                lint.add(lint.at(where_expected), "prompt/example-output-schema", Severity.ERROR,
                         f"{label}: expected output is not JSON ({exc})", "output.format is json")
                continue
        try:
            errors = sorted(validator.iter_errors(expected), key=lambda e: list(e.absolute_path))
        except Exception as exc:  # unresolvable $ref and the like: the schema, not the example, is at fault
            lint.add(lint.at(("spec", "output", "schema")), "prompt/invalid-output-schema", Severity.ERROR,
                     f"output.schema cannot be applied: {exc}")
            return
        for error in errors:
            path = where_expected if from_text else (*where_expected, *error.absolute_path)
            field_name = "/".join(str(p) for p in error.absolute_path) or "(root)"
            lint.add(lint.at(path), "prompt/example-output-schema", Severity.ERROR,
                     f"{label}: expected output at {field_name}: {error.message}")


def resolve_model(lint: PromptLint) -> Manifest | None:
    ref = lint.spec.get("modelRef")
    if lint.state is None or not isinstance(ref, dict):
        return None
    name, wanted = ref.get("name"), ref.get("version")
    if not isinstance(name, str) or not isinstance(wanted, str):
        return None
    model = lint.state.find("Model", name)
    if model is None or model.version is None:
        return None
    try:
        if not parse_range(wanted).satisfied_by(model.version):
            return None  # the reference check reports the unsatisfied range
    except RangeError:
        return None
    return model


def check_budget(lint: PromptLint, rendered: list[tuple[str, list[str]]],
                 counters: dict[str, TokenCounter]) -> None:
    model = resolve_model(lint)
    if model is None or not rendered:
        return
    interface = model.spec.get("interface")
    window = interface.get("maxContextTokens") if isinstance(interface, dict) else None
    if not isinstance(window, int) or isinstance(window, bool):
        return
    config = lint.spec.get("config")
    output = config.get("maxOutputTokens") if isinstance(config, dict) else None
    output = output if isinstance(output, int) and not isinstance(output, bool) else 0
    counter = counters.get(model.relpath)
    if counter is None:
        counter = counters[model.relpath] = counter_for(model)
    chat = lint.spec.get("type") == "chat"
    candidates = list(rendered)
    maximal = render(lint.templates, maximal_sample(lint.declared, [g for _, _, g in lint.examples]))
    if not isinstance(maximal, RenderFailure):
        candidates.append(("the declared maximum input sizes", maximal))
    ceiling = max(counter.ceiling(parts, chat) for _, parts in candidates)
    if ceiling + output <= window:
        return
    label, tokens = counter.largest(candidates, chat)
    if tokens + output <= window:
        return
    where = ("spec", "config", "maxOutputTokens") if output else ("spec", "modelRef")
    lint.add(lint.at(where), "prompt/token-budget", Severity.ERROR,
             f"the prompt rendered with {label} takes {tokens} tokens, plus maxOutputTokens {output} is "
             f"{tokens + output}, more than Model {model.name!r} {model.version} allows "
             f"(interface.maxContextTokens {window}); {counter.describe()}",
             "shorten the prompt, lower maxOutputTokens or the inputs' maxLength/maxItems, "
             "or use a model with a larger context window")


def _strings(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    stack: list[tuple[JsonPath, Any]] = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            yield where, node
        elif isinstance(node, dict):
            stack.extend(((*where, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*where, i), v) for i, v in enumerate(node))


def check_secrets(lint: PromptLint) -> None:
    severity = {True: Severity.ERROR, False: Severity.WARNING}
    for where, text in _strings(lint.manifest.data, ()):
        if where == ("metadata", "annotations", IGNORE_ANNOTATION):
            continue
        for match in scan(text):
            secret = match.rule.startswith("prompt/secret-")
            field_name = ".".join(str(p) for p in where)
            hint = ("remove it and rotate the credential: it is in the Git history now" if secret
                    else "replace it with a made-up value (e.g. an address at example.com)")
            lint.add(lint.positions.at(where, match.start), match.rule, severity[secret],
                     f"{match.message} in {field_name}", hint)


def lint_prompt(manifest: Manifest, state: EnvironmentState | None,
                counters: dict[str, TokenCounter] | None = None) -> list[Finding]:
    lint = PromptLint(manifest, state)
    lint.findings.extend(structure.check(manifest))
    analyses = check_templates(lint)
    check_variables(lint, analyses)
    static_errors = any(f.severity is Severity.ERROR for f in lint.findings)
    renderable = check_inputs(lint)
    rendered = check_rendering(lint, renderable, static_errors)
    check_budget(lint, rendered, counters if counters is not None else {})
    check_output_schema(lint)
    check_secrets(lint)
    return lint.findings


def lint(repo: Repository, state: EnvironmentState) -> list[Finding]:
    counters: dict[str, TokenCounter] = {}
    findings: list[Finding] = []
    for manifest in state.of_kind("Prompt"):
        findings.extend(lint_prompt(manifest, state, counters))
    disk_cache().save()
    return findings


def lint_paths(root: Path, paths: list[Path] | None = None, source: Source | None = None) -> list[Finding]:
    """`llmgitops lint-prompts`: the Prompts of every environment the paths touch, configured.

    Scope is validate's: an environment is linted whole because a Model change moves its Prompts'
    token budgets. Prompt files that do not load report why; a Prompt YAML outside environments/ is
    linted too, without a Model to budget against.
    """
    from ..validate import Scope, scope_of

    repo = Repository(source or WorkingTree(root))
    scope = scope_of(repo, root, paths) if paths else Scope(environments=set(repo.environment_names()))
    findings = list(scope.findings)
    for name in sorted(scope.environments):
        state = repo.environment(name)
        findings.extend(f for f in state.findings if f"/{PROMPTS_FOLDER}/" in f.path)
        findings.extend(lint(repo, state))
    counters: dict[str, TokenCounter] = {}
    for relpath in sorted(set(scope.files)):
        manifest, problems = repo.load_file(relpath)
        if manifest is None:
            findings.extend(problems)
        elif manifest.kind == "Prompt":
            findings.extend(lint_prompt(manifest, None, counters))
    disk_cache().save()
    return sort_findings(configure(findings, repo))
