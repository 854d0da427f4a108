"""One negative case per prompt rule: the rule fires, at the line and column in the YAML file where the
problem is written (inside block scalars, quoted strings and later messages alike)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_cases import BASE, edit, lint_text, pos_of, where

from llmgitops.findings import Severity
from llmgitops.prompts.catalog import PROMPT_RULES
from llmgitops.rules import RULES

USER = "        <question>{{ question }}</question>\n"
INPUTS = "  messages:\n"


def user(content: str) -> str:
    """BASE with the user message's block scalar replaced by ``content`` (lines at block indentation)."""
    return edit(USER, "".join(f"        {line}\n" for line in content.split("\n")))


def inputs(decls: str) -> str:
    """Extra input declarations (indented under spec.input)."""
    return "".join(f"    {line}\n" for line in decls.strip("\n").split("\n")) + INPUTS


# Fake credentials are assembled here so that this file itself holds no key-shaped text.
OPENAI = "sk-" + "proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8t"
ANTHROPIC = "sk-" + "ant-api03-" + "Xy7zAb3dEf6hIj9kLm2nOp5qRs8t"
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SLACK = "xoxb-" + "1234567890-abcdefghij"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
PEM = "-----BEGIN " + "RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJIUzI1NiJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
BASE64 = "Zx8Qw3Er5Ty7Ui9Op1As2Df4" + "Gh6Jk0LmNb"
HEX = "9f86d081884c7d659a2feaa0c55ad015" + "a3bf4f1b2b0b822cd15d6c15b0f00a08"


def described(text: str) -> str:
    return edit("  description: Answers a question.\n", f"  description: 'Answers a question. {text}'\n")


# (rule, YAML, needle where the finding must point, nth occurrence of the needle, offset into it)
CASES: list[tuple[str, str, str, int, int]] = [
    ("prompt/template-syntax", user("<question>{{ question }}</question>\nthen {{ question + }}"),
     "{{ question + }}", 0, 0),
    ("prompt/undeclared-variable", user("<question>{{ question }}</question> in {{ lang }}"), "lang }}", 0, 0),
    ("prompt/unused-variable", edit(INPUTS, inputs("extra:\n  type: string")), "extra:", 0, 0),
    ("prompt/unguarded-optional", user("<question>{{ question }}</question>\nAnswer in {{ lang }}.")
     .replace(INPUTS, inputs("lang:\n  type: string")), "lang }}", 0, 0),
    ("prompt/attribute-on-non-object", user("<question>{{ question.text }}</question>"), "text }}", 0, 0),
    ("prompt/unknown-attribute",
     user("<question>{{ question }}</question>\n{% for d in docs %}<doc>{{ d.title }}</doc>{% endfor %}")
     .replace(INPUTS, inputs("docs:\n  type: array\n  required: true\n  items:\n    type: object\n"
                             "    properties:\n      body: {type: string}")), "title }}", 0, 0),
    ("prompt/not-iterable",
     user("<question>{{ question }}</question>\n{% for c in count %}{{ c }}{% endfor %}")
     .replace(INPUTS, inputs("count:\n  type: integer\n  required: true")), "count %}", 0, 0),
    ("prompt/render-error",
     user("<question>{{ question }}</question>\nper unit: {{ price / qty }}")
     .replace(INPUTS, inputs("price:\n  type: number\n  required: true\nqty:\n  type: number\n  required: true"))
     .replace("        question: What is a backup?\n",
              "        question: What is a backup?\n        price: 10\n        qty: 0\n"),
     "{{ price", 0, 0),
    ("prompt/example-input", edit("question: What is a backup?", "question: 42"), "42", 0, 0),
    ("prompt/default-type",
     user("<question>{{ question }}</question>{% if lang %} in {{ lang }}{% endif %}")
     .replace(INPUTS, inputs("lang:\n  type: string\n  default: 3")), "default: 3", 0, 9),
    ("prompt/example-output-schema",
     edit("  messages:\n", "  output:\n    format: json\n    schema:\n      type: object\n"
                           "      required: [answer]\n  messages:\n")
     .replace("        question: What is a backup?\n",
              "        question: What is a backup?\n      expected:\n        wrong: 1\n"),
     "wrong: 1", 0, 0),
    ("prompt/invalid-output-schema",
     edit("  messages:\n", "  output:\n    format: json\n    schema:\n      type: strng\n  messages:\n"),
     "strng", 0, 0),
    ("prompt/token-budget", edit("maxOutputTokens: 100", "maxOutputTokens: 150"), "150", 0, 0),
    ("prompt/type-mismatch", edit("  type: chat\n", "  type: text\n"), "messages:", 0, 0),
    ("prompt/invalid-role", edit("    - role: system\n", "    - role: bot\n"), "bot", 0, 0),
    ("prompt/empty-message", edit("content: Answer briefly.", 'content: "   "'), '"   "', 0, 0),
    ("prompt/multiple-system",
     edit("  examples:\n", "    - role: system\n      content: Be kind.\n  examples:\n"), "system", 1, 0),
    ("prompt/system-not-first",
     edit("    - role: system\n      content: Answer briefly.\n", "    - role: assistant\n      content: Hi.\n"
          "    - role: system\n      content: Answer briefly.\n"), "system", 0, 0),
    ("prompt/user-input-in-system", edit("content: Answer briefly.", "content: Answer {{ question }} briefly."),
     "question }} briefly", 0, 0),
    ("prompt/undelimited-user-input", user("Question: {{ question }}"), "question }}", 0, 0),
    ("prompt/sandbox-escape", user("<question>{{ question }}</question>{{ question.__class__ }}"),
     "__class__", 0, 0),
    ("prompt/template-loading", user("<question>{{ question }}</question>{% include 'other.txt' %}"),
     "include", 0, 0),
    ("prompt/secret-openai-key", described(f"Key {OPENAI}"), OPENAI, 0, 0),
    ("prompt/secret-anthropic-key", described(f"Key {ANTHROPIC}"), ANTHROPIC, 0, 0),
    ("prompt/secret-aws-access-key", described(f"Id {AWS_ID}"), AWS_ID, 0, 0),
    ("prompt/secret-aws-secret-key", described(f"aws_secret_access_key = {AWS_SECRET}"), AWS_SECRET, 0, 0),
    ("prompt/secret-github-token", described(f"Token {GITHUB}"), GITHUB, 0, 0),
    ("prompt/secret-slack-token", described(f"Token {SLACK}"), SLACK, 0, 0),
    ("prompt/secret-google-api-key", described(f"Key {GOOGLE}"), GOOGLE, 0, 0),
    ("prompt/secret-private-key", user(f"<question>{{{{ question }}}}</question>\n{PEM}\nMIIEow"), PEM, 0, 0),
    ("prompt/secret-jwt", edit("question: What is a backup?", f"question: Bearer {JWT}"), JWT, 0, 0),
    ("prompt/secret-high-entropy", described(f"token {BASE64}"), BASE64, 0, 0),
    ("prompt/pii-email", edit("content: Answer briefly.", "content: Escalate to bob.smith@acme-corp.io now."),
     "bob.smith", 0, 0),
    ("prompt/pii-phone", described("Call +1 415 555 2671 for help."), "+1 415", 0, 0),
    ("prompt/pii-card-number", edit("question: What is a backup?", "question: My card is 4111 1111 1111 1111"),
     "4111", 0, 0),
    ("prompt/pii-us-ssn", described("SSN 123-45-6789 on file."), "123-45", 0, 0),
    ("prompt/pii-iban", described("Pay to DE89 3704 0044 0532 0130 00 today."), "DE89", 0, 0),
    ("prompt/pii-es-dni", described("DNI 12345678Z del cliente."), "12345678Z", 0, 0),
]


@pytest.mark.parametrize(("rule", "text", "needle", "nth", "offset"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_at_the_yaml_position(rule: str, text: str, needle: str, nth: int, offset: int) -> None:
    findings = lint_text(text, window=320)
    assert pos_of(text, needle, nth, offset) in where(findings, rule), (
        f"{rule} expected at {pos_of(text, needle, nth, offset)}; got "
        + "\n".join(f"{f.line}:{f.column} {f.rule} {f.message}" for f in findings))
    finding = next(f for f in findings if f.rule == rule)
    assert finding.severity is RULES[rule].severity


def test_every_prompt_rule_has_a_negative_case() -> None:
    assert {c[0] for c in CASES} == {r.id for r in PROMPT_RULES}


def test_base_prompt_is_clean() -> None:
    assert lint_text(BASE, window=320) == []


def test_second_occurrence_on_a_line_is_the_one_reported() -> None:
    """Two outputs of the same input on one line: the undelimited one is reported, not the first."""
    text = user("<question>{{ question }}</question> again: {{ question }}")
    assert where(lint_text(text), "prompt/undelimited-user-input") == [pos_of(text, "question }}", 1)]


def test_token_budget_estimate_says_so() -> None:
    text = edit("maxOutputTokens: 100", "maxOutputTokens: 150")
    finding = next(f for f in lint_text(text, window=320) if f.rule == "prompt/token-budget")
    assert "estimated at 3 bytes per token" in finding.message
    assert "declared maximum input sizes" in finding.message
    assert lint_text(text, window=400) == []


def test_budget_respects_the_model_version_range() -> None:
    """A Model outside the modelRef range is not the one the prompt runs on: no budget is computed."""
    text = edit("version: ^1.0.0", "version: ^2.0.0", edit("maxOutputTokens: 100", "maxOutputTokens: 150"))
    assert where(lint_text(text, window=320), "prompt/token-budget") == []


def test_chat_without_messages_and_text_without_template() -> None:
    text = edit("  type: chat\n", "  type: text\n")
    text = text[: text.index("  messages:")] + "  examples: []\n"
    assert where(lint_text(text), "prompt/type-mismatch") == [pos_of(text, "text", 0)]
    chat = BASE[: BASE.index("  messages:")] + "  examples: []\n"
    assert where(lint_text(chat), "prompt/type-mismatch") == [pos_of(chat, "chat", 0)]


@pytest.mark.parametrize("content", [
    "<question>{{ question }}</question>",
    "<question id=\"q\">\n{{ question }}\n</question>",
    "```text\n{{ question }}\n```",
    '"""\n{{ question }}\n"""',
    "-----BEGIN QUESTION-----\n{{ question }}\n-----END QUESTION-----",
    "Question as JSON: {{ question | tojson }}",
    "<q>{% if question %}{{ question }}{% endif %}</q>",
])
def test_delimited_user_input_is_accepted(content: str) -> None:
    assert lint_text(user(content)) == []


@pytest.mark.parametrize("guarded", [
    "{% if lang %}in {{ lang }}{% endif %}",
    "{% if lang is defined %}in {{ lang }}{% endif %}",
    "in {{ lang | default('English') }}",
    "in {{ lang or 'English' }}",
    "{% if not lang %}in English{% else %}in {{ lang }}{% endif %}",
    "{{ 'in ' ~ lang if lang else '' }}",
])
def test_guarded_optional_inputs_are_accepted(guarded: str) -> None:
    text = user(f"<question>{{{{ question }}}}</question> {guarded}").replace(INPUTS, inputs("lang:\n  type: string"))
    assert lint_text(text) == []


def test_pii_lookalikes_are_not_reported() -> None:
    text = described("Write to jane@example.com; order 4111 1111 1111 1112; version 1.2.3; 2024-01-15.")
    assert [f.rule for f in lint_text(text)] == []


def test_loops_and_nested_properties_are_checked() -> None:
    text = user("<question>{{ question }}</question>\n{% for d in docs %}{{ d.meta.author }}"
                "{{ d.meta.year }}{% endfor %}").replace(INPUTS, inputs(
                    "docs:\n  type: array\n  required: true\n  items:\n    type: object\n    properties:\n"
                    "      meta:\n        type: object\n        properties:\n          author: {type: string}"))
    assert where(lint_text(text), "prompt/unknown-attribute") == [pos_of(text, "year }}")]
    assert where(lint_text(text), "prompt/undeclared-variable") == []


def test_example_omitting_a_required_input() -> None:
    text = user("<question>{{ question }}</question> {{ topic }}").replace(
        INPUTS, inputs("topic:\n  type: string\n  required: true"))
    findings = lint_text(text)
    assert where(findings, "prompt/example-input") == [pos_of(text, "question: What")]
    assert "omits required input 'topic'" in next(f.message for f in findings if f.rule == "prompt/example-input")


def test_example_expected_output_as_json_text() -> None:
    text = edit("  messages:\n", "  output:\n    format: json\n    schema:\n      type: object\n"
                                 "      properties:\n        answer: {type: string}\n  messages:\n")
    good = text.replace("        question: What is a backup?\n",
                        "        question: What is a backup?\n      expected: '{\"answer\": \"A copy.\"}'\n")
    assert lint_text(good) == []
    bad = text.replace("        question: What is a backup?\n",
                       "        question: What is a backup?\n      expected:\n        answer: 5\n")
    assert where(lint_text(bad), "prompt/example-output-schema") == [pos_of(bad, "5\n", 0)]


def test_hostile_templates_are_bounded() -> None:
    """Rendering user-written templates cannot exhaust memory or time: each bound is a render error."""
    for body in ("{{ 'x' * 100000000 }}", "{{ 'a' | center(999999999) }}",
                 "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"):
        findings = lint_text(user(f"<question>{{{{ question }}}}</question>{body}"))
        assert [f.rule for f in findings] == ["prompt/render-error"], findings
        assert findings[0].severity is Severity.ERROR


def test_every_rule_is_documented_with_an_example() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "prompts.md").read_text(encoding="utf-8")
    for rule in PROMPT_RULES:
        row = next((line for line in docs.splitlines() if line.startswith(f"| `{rule.id}` |")), None)
        assert row is not None, rule.id
        assert row.count("|") >= 4 and f"| {rule.severity.value} |" in row, row


def test_each_render_has_its_own_time_limit() -> None:
    """Two examples that each loop for minutes: both are cut off (RENDER_SECONDS each), no hang."""
    import time

    from llmgitops.prompts.template import RENDER_SECONDS

    # 400**4 iterations: minutes at any speed (three levels, 64M, finish in under 2 s on a warm process)
    loop = ("{% for a in question %}{% for b in question %}{% for c in question %}{% for d in question %}"
            "{% endfor %}{% endfor %}{% endfor %}{% endfor %}")
    text = user(f"<question>{{{{ question }}}}</question>{loop}").replace(
        "        question: What is a backup?\n",
        "        question: '" + "x" * 400 + "'\n    - name: second\n      input:\n        question: '" + "y" * 400 + "'\n")
    started = time.perf_counter()
    findings = lint_text(text, window=None)
    assert time.perf_counter() - started < 4 * RENDER_SECONDS + 2
    (timeout,) = [f for f in findings if f.rule == "prompt/render-error"]  # one per failing line
    assert "longer than" in timeout.message
    assert {f.rule for f in findings} == {"prompt/render-error", "prompt/not-iterable"}
