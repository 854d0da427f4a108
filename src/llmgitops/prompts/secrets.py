"""Credentials and personal data in prompt manifests.

A prompt is copied into every environment, rendered into requests, logged by providers and reviewed in
pull requests: a key or a customer's e-mail in it leaks everywhere at once. Each detector is a pattern
plus, where one exists, a checksum (Luhn for cards, mod-97 for IBANs, the DNI check letter) so that
random digits are not reported. Secrets are errors, personal data warnings.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

_RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "localhost")
_RESERVED_TLDS = (".example", ".test", ".invalid", ".localhost", ".local")

# Lengths of IBANs per country (ISO 13616 registry), for the countries most often seen.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
    "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24,
    "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24,
    "XK": 20,
}
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


@dataclass(frozen=True)
class Match:
    rule: str
    start: int
    end: int
    message: str


@dataclass(frozen=True)
class _Text:
    """Cheap facts about a text that rule detectors out before any regular expression runs."""

    text: str
    digits: int
    longest_word: int


@dataclass(frozen=True)
class _Detector:
    rule: str
    pattern: re.Pattern[str]
    what: str
    accept: Callable[[re.Match[str]], bool] = lambda m: True
    group: int = 0
    needs: Callable[[_Text], bool] = lambda t: True


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(m: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", m.group(0))
    return 13 <= len(digits) <= 19 and bool(re.match(r"4|5[1-5]|2[2-7]|3[47]|6", digits)) and _luhn(digits)


def _iban(m: re.Match[str]) -> bool:
    iban = m.group(0).replace(" ", "")
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _dni(m: re.Match[str]) -> bool:
    text = m.group(0).upper()
    body = text[:-1]
    if body[0] in "XYZ":  # NIE: the leading letter stands for a digit
        body = str("XYZ".index(body[0])) + body[1:]
    return body.isdigit() and _DNI_LETTERS[int(body) % 23] == text[-1]


def _email(m: re.Match[str]) -> bool:
    domain = m.group(1).lower().rstrip(".")
    if domain in _RESERVED_DOMAINS or any(domain.endswith("." + d) for d in _RESERVED_DOMAINS):
        return False
    return not domain.endswith(_RESERVED_TLDS)


def _phone(m: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", m.group(0))
    return 10 <= len(digits) <= 15


def _ssn(m: re.Match[str]) -> bool:
    area, group, serial = m.group(0).split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


def entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _random_base64(m: re.Match[str]) -> bool:
    token = m.group(0).rstrip("=")
    has_mix = (any(c.isdigit() for c in token) and any(c.islower() for c in token)
               and any(c.isupper() for c in token))
    return has_mix and entropy(token) >= 4.2


def _random_hex(m: re.Match[str]) -> bool:
    token = m.group(0)
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token) and entropy(token) >= 3.0


SECRETS: tuple[_Detector, ...] = (
    _Detector("prompt/secret-private-key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
              "a private key block", needs=lambda t: "PRIVATE KEY" in t.text),
    _Detector("prompt/secret-anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
              "an Anthropic API key", needs=lambda t: "sk-ant-" in t.text),
    _Detector("prompt/secret-openai-key",
              re.compile(r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"), "an OpenAI API key",
              lambda m: any(c.isdigit() for c in m.group(0)), needs=lambda t: "sk-" in t.text),
    _Detector("prompt/secret-aws-access-key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
              "an AWS access key id", needs=lambda t: t.longest_word >= 20),
    _Detector("prompt/secret-aws-secret-key",
              re.compile(r"(?i:aws.{0,20}?(?:secret|private)?.{0,20}?key)[\"']?\s*[:=]\s*[\"']?"
                         r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"),
              "an AWS secret access key", group=1, needs=lambda t: t.longest_word >= 40),
    _Detector("prompt/secret-github-token",
              re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"), "a GitHub token",
              needs=lambda t: "_" in t.text and t.longest_word >= 30),
    _Detector("prompt/secret-slack-token", re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}"), "a Slack token",
              needs=lambda t: "xox" in t.text),
    _Detector("prompt/secret-google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key",
              needs=lambda t: "AIza" in t.text),
    _Detector("prompt/secret-jwt",
              re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"),
              "a JSON Web Token", needs=lambda t: "eyJ" in t.text),
    _Detector("prompt/secret-high-entropy",
              re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])"),
              "a random-looking base64 string", _random_base64, needs=lambda t: t.longest_word >= 24),
    _Detector("prompt/secret-high-entropy", re.compile(r"\b[0-9a-fA-F]{32,}\b"),
              "a random-looking hex string", _random_hex, needs=lambda t: t.longest_word >= 32),
)

PII: tuple[_Detector, ...] = (
    _Detector("prompt/pii-email",
              re.compile(r"\b[A-Za-z0-9._%+-]+@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b"),
              "an e-mail address", _email, needs=lambda t: "@" in t.text),
    _Detector("prompt/pii-card-number", re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"),
              "a payment card number", _card, needs=lambda t: t.digits >= 13),
    _Detector("prompt/pii-us-ssn", re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"),
              "a US social security number", _ssn, needs=lambda t: t.digits >= 9),
    _Detector("prompt/pii-iban", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
              "an IBAN", _iban, needs=lambda t: t.digits >= 10),
    _Detector("prompt/pii-es-dni", re.compile(r"\b[0-9XYZ]\d{7}[A-Z]\b"), "a Spanish DNI/NIE number", _dni,
              needs=lambda t: t.digits >= 7),
    _Detector("prompt/pii-phone",
              re.compile(r"(?<![\w+.-])(?<!\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .-]\d{3,4}"
                         r"[ .-]\d{3,4}(?![\w-]|[ .]?\d)"),
              "a phone number", _phone, needs=lambda t: t.digits >= 10),
)

_DETECTORS = (*SECRETS, *PII)
_SHORTEST = 9  # no detector matches fewer characters
_DIGITS = {ord(c): None for c in "0123456789"}


def scan(text: str) -> tuple[Match, ...]:
    """Every secret and personal datum in ``text``; a span claimed by one detector is not reported twice."""
    if len(text) < _SHORTEST:
        return ()
    return _scan(text)


@lru_cache(maxsize=16384)
def _scan(text: str) -> tuple[Match, ...]:
    # Cached: promoted prompts repeat their strings in every environment.
    return tuple(_matches(text))


def _matches(text: str) -> Iterator[Match]:
    # Most strings hold nothing: substring and length tests (C speed) skip most regular expressions.
    facts = _Text(text, len(text) - len(text.translate(_DIGITS)), max(map(len, text.split()), default=0))
    claimed: list[tuple[int, int]] = []
    for detector in _DETECTORS:
        if not detector.needs(facts):
            continue
        for m in detector.pattern.finditer(text):
            start, end = m.span(detector.group)
            if any(start < e and s < end for s, e in claimed) or not detector.accept(m):
                continue
            claimed.append((start, end))
            yield Match(detector.rule, start, end, detector.what)

