"""The shape of a chat or text prompt: roles, empty messages, the system message's place."""

from __future__ import annotations

from ..findings import Finding
from ..manifests.repository import Manifest

ROLES = ("system", "user", "assistant", "tool")


def check(manifest: Manifest) -> list[Finding]:
    spec = manifest.spec
    kind = spec.get("type")
    out: list[Finding] = []
    has_messages, has_template = "messages" in spec, "template" in spec
    if kind == "chat":
        if not isinstance(spec.get("messages"), list) or not spec["messages"]:
            out.append(manifest.finding(("spec", "messages") if has_messages else ("spec", "type"),
                                        "prompt/type-mismatch",
                                        "a chat prompt needs a non-empty messages list",
                                        "write messages: [{role: system, content: …}, "
                                        "{role: user, content: …}]"))
        if has_template:
            out.append(manifest.finding(("spec", "template"), "prompt/type-mismatch",
                                        "a chat prompt has messages, not a template", "use type: text, or "
                                        "move the template into a user message", at_key=True))
    elif kind == "text":
        if not isinstance(spec.get("template"), str):
            out.append(manifest.finding(("spec", "template") if has_template else ("spec", "type"),
                                        "prompt/type-mismatch", "a text prompt needs a template string",
                                        "write template: |  followed by the prompt text"))
        if has_messages:
            out.append(manifest.finding(("spec", "messages"), "prompt/type-mismatch",
                                        "a text prompt has a template, not messages",
                                        "use type: chat for a list of messages", at_key=True))
    messages = spec.get("messages")
    if kind != "text" and isinstance(messages, list):
        out.extend(_messages(manifest, messages))
    return out


def _messages(manifest: Manifest, messages: list[object]) -> list[Finding]:
    out: list[Finding] = []
    system_at: list[int] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        where = ("spec", "messages", i)
        if role not in ROLES:
            out.append(manifest.finding((*where, "role"), "prompt/invalid-role",
                                        f"role {role!r} is not one of {', '.join(ROLES)}",
                                        "chat APIs reject other roles"))
        if role == "system":
            system_at.append(i)
        if content is None or (isinstance(content, str) and not content.strip()):
            out.append(manifest.finding((*where, "content") if "content" in message else where,
                                        "prompt/empty-message", f"message {i} ({role}) has no content",
                                        "remove the message or write its text"))
    for i in system_at[1:]:
        out.append(manifest.finding(("spec", "messages", i, "role"), "prompt/multiple-system",
                                    f"message {i} is a second system message "
                                    f"(the first is message {system_at[0]})",
                                    "merge the instructions into one system message; "
                                    "many models keep only one"))
    if system_at and system_at[0] != 0:
        out.append(manifest.finding(("spec", "messages", system_at[0], "role"), "prompt/system-not-first",
                                    f"the system message is message {system_at[0]}, not the first",
                                    "move it to the top: chat templates expect the system message first"))
    return out
