"""Every prompt rule: its id, default severity and one-line meaning (docs/prompts.md explains each)."""

from __future__ import annotations

from ..findings import Severity
from ..rules import Rule

E, W = Severity.ERROR, Severity.WARNING

SECRET_RULES: tuple[Rule, ...] = (
    Rule("prompt/secret-openai-key", E, "An OpenAI API key (sk-…, sk-proj-…) in the manifest."),
    Rule("prompt/secret-anthropic-key", E, "An Anthropic API key (sk-ant-…) in the manifest."),
    Rule("prompt/secret-aws-access-key", E, "An AWS access key id (AKIA…) in the manifest."),
    Rule("prompt/secret-aws-secret-key", E, "An AWS secret access key in the manifest."),
    Rule("prompt/secret-github-token", E, "A GitHub token (ghp_…, github_pat_…) in the manifest."),
    Rule("prompt/secret-slack-token", E, "A Slack token (xoxb-…, xoxp-…) in the manifest."),
    Rule("prompt/secret-google-api-key", E, "A Google API key (AIza…) in the manifest."),
    Rule("prompt/secret-private-key", E, "A PEM private key block in the manifest."),
    Rule("prompt/secret-jwt", E, "A JSON Web Token in the manifest."),
    Rule("prompt/secret-high-entropy", E,
         "A long random-looking base64 or hex string (a likely credential)."),
)

PII_RULES: tuple[Rule, ...] = (
    Rule("prompt/pii-email", W, "An e-mail address (reserved example domains excepted)."),
    Rule("prompt/pii-phone", W, "A phone number."),
    Rule("prompt/pii-card-number", W, "A payment card number (Luhn-checked)."),
    Rule("prompt/pii-us-ssn", W, "A US social security number."),
    Rule("prompt/pii-iban", W, "An IBAN (country length and mod-97 checked)."),
    Rule("prompt/pii-es-dni", W, "A Spanish DNI/NIE national identity number (check letter verified)."),
)

PROMPT_RULES: tuple[Rule, ...] = (
    Rule("prompt/template-syntax", E, "A Jinja2 template does not parse."),
    Rule("prompt/undeclared-variable", E, "The template reads a variable that spec.input does not declare."),
    Rule("prompt/unused-variable", W, "spec.input declares a variable no template reads."),
    Rule("prompt/unguarded-optional", W,
         "An optional input without a default is used outside {% if %}, `is defined` or |default."),
    Rule("prompt/attribute-on-non-object", E,
         "Attribute access on an input whose declared type has no such attribute."),
    Rule("prompt/unknown-attribute", E,
         "Attribute access names a property the declared object does not have."),
    Rule("prompt/not-iterable", E,
         "A loop iterates over an input that is not declared as an array or object."),
    Rule("prompt/render-error", E,
         "An example (or the declared defaults) fails to render with strict undefined."),
    Rule("prompt/example-input", E, "An example's input does not match the declared inputs."),
    Rule("prompt/default-type", E, "A declared default does not match its input's type."),
    Rule("prompt/example-output-schema", E, "An example's expected output does not satisfy output.schema."),
    Rule("prompt/invalid-output-schema", E, "output.schema is not a valid JSON Schema."),
    Rule("prompt/token-budget", E,
         "The rendered prompt plus maxOutputTokens exceeds the model's context window."),
    Rule("prompt/type-mismatch", E,
         "type chat needs messages (no template); type text needs template (no messages)."),
    Rule("prompt/invalid-role", E, "A message role is not system, user, assistant or tool."),
    Rule("prompt/empty-message", E, "A message has empty or whitespace-only content."),
    Rule("prompt/multiple-system", E, "More than one system message."),
    Rule("prompt/system-not-first", E, "The system message is not the first message."),
    Rule("prompt/user-input-in-system", W,
         "A user-supplied input (source: user) is placed in the system message."),
    Rule("prompt/undelimited-user-input", W,
         "A user-supplied input is inserted without delimiters around it."),
    Rule("prompt/sandbox-escape", E,
         "A template reaches for Python internals (__class__, mro, _private, …)."),
    Rule("prompt/template-loading", E,
         "{% include %}, {% extends %} or {% import %}: prompts are self-contained."),
    *SECRET_RULES,
    *PII_RULES,
)
