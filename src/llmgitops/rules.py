"""The catalog of finding rules: one place that names every rule, its default severity and what it means.

SARIF output lists rules from here, and the docs table of rules is generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str


E, W = Severity.ERROR, Severity.WARNING

CORE_RULES: tuple[Rule, ...] = (
    Rule("yaml/syntax", E, "The file is not well-formed YAML."),
    Rule("yaml/too-large", E, "The file is larger than the manifest size limit."),
    Rule("yaml/binary", E, "The file contains NUL bytes."),
    Rule("yaml/encoding", E, "The file is not UTF-8."),
    Rule("yaml/empty", E, "The document is empty."),
    Rule("yaml/not-a-mapping", E, "The document is not a mapping."),
    Rule("yaml/multi-document", E, "The file holds more than one YAML document."),
    Rule("yaml/duplicate-key", E, "A mapping repeats a key."),
    Rule("yaml/unknown-tag", E, "A tag other than the YAML core tags (e.g. !!python/object)."),
    Rule("yaml/bad-tagged-value", E, "A value does not match its explicit core tag."),
    Rule("yaml/non-string-key", E, "A mapping key is not a string."),
    Rule("yaml/merge-key", E, "A merge key (<<) hides what the manifest contains."),
    Rule("yaml/anchor-on-key", E, "An anchor is set on a mapping key."),
    Rule("yaml/recursive-alias", E, "An alias refers to a node that contains it."),
    Rule("yaml/alias-limit", E, "Aliases expand past the bound (a YAML bomb)."),
    Rule("yaml/too-deep", E, "Nesting is deeper than the bound."),
    Rule("path/escape", E, "A path leaves the repository (absolute, '..' or a symlink)."),
    Rule("path/missing", E, "A file a manifest names does not exist."),
    Rule("path/unreadable", E, "A file cannot be read."),
    Rule("path/not-a-file", E, "A path names something other than a regular file."),
    Rule("path/outside-repository", E, "A path given on the command line is outside the repository."),
    Rule("layout/unexpected-file", W, "A YAML file outside the manifest folders of an environment."),
    Rule("layout/wrong-folder", E, "A manifest sits in the folder of another kind."),
    Rule("manifest/api-version", E, "apiVersion is missing or not llmgitops.dev/v1alpha1."),
    Rule("manifest/unknown-kind", E, "kind is not one of the manifest kinds."),
    Rule("manifest/name-mismatch", E, "metadata.name differs from the file name."),
    Rule("manifest/duplicate-name", E, "Two manifests of one kind share a name in an environment."),
    Rule("environment/missing-file", E, "An environment folder has no environment.yaml."),
    Rule("environment/name-mismatch", E, "An Environment's name differs from its folder."),
    Rule("environment/unknown-source", E, "promotion.from names no environment."),
    Rule("environment/promotion-cycle", E, "The promotion chain loops."),
    Rule("environment/canary-steps", E, "Canary steps do not increase to 100."),
    Rule("environment/default-provider", E, "More than one provider is marked default."),
    Rule("schema/unknown-field", E, "A field the schema does not define (often a typo)."),
    Rule("schema/required", E, "A required field is missing."),
    Rule("schema/type", E, "A value has the wrong type (quote versions like \"1.10\")."),
    Rule("schema/enum", E, "A value is not one of the allowed values."),
    Rule("schema/format", E, "A value does not match the required format."),
    Rule("schema/length", E, "A string or list is too short or too long."),
    Rule("schema/range", E, "A number is out of range."),
    Rule("schema/unique", E, "A list repeats an item that must be unique."),
    Rule("schema/one-of", E, "A value matches none, or more than one, of the allowed shapes."),
    Rule("schema/any-of", E, "A value matches none of the allowed shapes."),
    Rule("schema/not", E, "A combination of fields that is not allowed."),
    Rule("ref/invalid-range", E, "A reference's version range does not parse."),
    Rule("ref/unresolved", E, "A reference names a manifest that is not in the environment."),
    Rule("ref/version-unsatisfied", E, "The referenced manifest's version is outside the range."),
    Rule("ref/unknown-provider", E, "An EvalSuite names a provider its Environment does not declare."),
    Rule("dvc/not-a-pointer", E, "A DVC path does not name a .dvc pointer file."),
    Rule("dvc/missing-pointer", E, "A DVC pointer file does not exist."),
    Rule("dvc/invalid-pointer", E, "A DVC pointer file does not parse or has no outs."),
    Rule("dvc/missing-hash", E, "A DVC pointer records no content hash."),
    Rule("model/context-exceeds", E, "serving.args.max_model_len exceeds interface.maxContextTokens."),
)

RULES: dict[str, Rule] = {r.id: r for r in CORE_RULES}


def register(rules: tuple[Rule, ...]) -> None:
    """Other areas (versioning, prompts, evaluation) add their rules at import."""
    for rule in rules:
        RULES.setdefault(rule.id, rule)


def describe(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    if rule is not None:
        return rule.summary
    family = rule_id.split("/", 1)[0]
    return f"{family} rule {rule_id}"
