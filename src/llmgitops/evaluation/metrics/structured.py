"""Structured output: is it JSON, and does it follow the schema (``params.schema``, else the Prompt's
``output.schema``). With ``params.strict: true`` the whole output must be JSON; otherwise a Markdown code
fence or a sentence around one JSON object is tolerated, as applications usually parse it that way."""

from __future__ import annotations

import json
from typing import Any

from . import Metric, MetricConfigError, Sample, Score, extract_json, register_metric


class _Json(Metric):
    def configure(self) -> None:
        self.strict = self.param("strict", bool, False)

    def parse(self, text: str) -> tuple[Any, str | None]:
        if self.strict:
            try:
                return json.loads(text), None
            except ValueError as exc:
                return None, str(exc)
        return extract_json(text)


@register_metric("json-valid")
class JsonValid(_Json):
    async def score(self, sample: Sample) -> Score:
        _, error = self.parse(sample.output.text or "")
        return Score.boolean(error is None) if error is None else Score.boolean(False, problem=error)


@register_metric("json-schema")
class JsonSchema(_Json):
    def configure(self) -> None:
        super().configure()
        schema = self.params.get("schema")
        if schema is None:
            schema = getattr(self.target, "output_schema", None)
        if not isinstance(schema, dict):
            raise MetricConfigError(
                f"metric {self.spec.name!r} needs params.schema, or a Prompt target with output.schema"
            )
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise MetricConfigError(f"metric {self.spec.name!r}: the JSON Schema is invalid: {exc.message}") from None
        self.validator = Draft202012Validator(schema)

    async def score(self, sample: Sample) -> Score:
        value, error = self.parse(sample.output.text or "")
        if error is not None:
            return Score.boolean(False, problem=f"not JSON: {error}")
        errors = sorted(self.validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if not errors:
            return Score.boolean(True)
        shown = []
        for err in errors[:3]:
            where = ".".join(str(p) for p in err.absolute_path)
            shown.append(f"{where + ': ' if where else ''}{err.message}"[:300])
        return Score.boolean(False, problems=shown)
