"""Label-matcher regexes: the subset agrees with Python's ``re`` where both apply, refuses the
rest by name, and matches in linear time (the catastrophic cases return at once)."""

from __future__ import annotations

import re

import pytest

from alerting.linear_regex import MAX_PATTERN_CHARS, LinearRegex, PatternError
from alerting.routing import Matcher
from alerting.rules import RuleError

PATTERNS = [
    "lel-.*",
    "safety\\.(lel_pct|h2s_ppm|co_ppm)",
    "major|minor|warning",
    "gd0[1-3]",
    "[^-]+-[a-z]*",
    "(ab)*c?",
    "(?:a|b)+x",
    "",
    "a.c",
    "x*y*z*",
    "[]a]+",
    "[a-]b",
    "((a|)b)*",
]
VALUES = [
    "",
    "lel-level1",
    "lel",
    "safety.co_ppm",
    "safety.co_ppmx",
    "safetyXco_ppm",
    "major",
    "minor|warning",
    "gd02",
    "gd04",
    "abc-def",
    "-",
    "ababc",
    "abab",
    "aabbx",
    "x",
    "abc",
    "a\nc",
    "xxyzz",
    "]a]",
    "-b",
    "bab",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_agrees_with_re_fullmatch(pattern: str) -> None:
    compiled = LinearRegex(pattern)
    for value in VALUES:
        assert compiled.fullmatch(value) == (re.fullmatch(pattern, value) is not None), (pattern, value)


@pytest.mark.parametrize(
    ("pattern", "miss", "hit"),
    [
        ("((.+)+)+!", "a" * 5000, "a" * 4999 + "!"),
        ("(a*)*b", "a" * 5000, "a" * 4999 + "b"),
        ("(a|a)*c", "a" * 5000, "a" * 4999 + "c"),
        ("(x+x+)+y", "x" * 5000, "x" * 4999 + "y"),
    ],
)
def test_catastrophic_backtracking_patterns_answer_without_backtracking(pattern: str, miss: str, hit: str) -> None:
    # Python's re takes 13 s for ((.+)+)+! on 18 characters; on 5 000 it would never end.
    compiled = LinearRegex(pattern)
    assert compiled.fullmatch(miss) is False
    assert compiled.fullmatch(hit) is True


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        ("a{2,3}", "counted repetition"),
        ("^a", "anchor"),
        ("a$", "anchor"),
        ("(?=a)", "group extension"),
        ("(?i)a", "group extension"),
        ("\\d+", "escape"),
        ("(a", "unclosed group"),
        ("a)", "unmatched ')'"),
        ("[a", "unclosed class"),
        ("*a", "nothing to repeat"),
        ("a**", "quantifier on a quantifier"),
        ("[z-a]", "reversed range"),
    ],
)
def test_outside_the_subset_is_refused_by_name(pattern: str, construct: str) -> None:
    with pytest.raises(PatternError, match=re.escape(construct)):
        LinearRegex(pattern)


def test_pattern_length_limit() -> None:
    LinearRegex("a" * MAX_PATTERN_CHARS)
    with pytest.raises(PatternError, match=f"at most {MAX_PATTERN_CHARS}"):
        LinearRegex("a" * (MAX_PATTERN_CHARS + 1))


def test_matchers_use_the_subset_and_refuse_when_saved() -> None:
    assert Matcher.parse("alertname=~lel-.*").matches({"alertname": "lel-level2"})
    assert Matcher.parse("alertname!~lel-.*").matches({"alertname": "co-level1"})
    with pytest.raises(RuleError, match="counted repetition"):
        Matcher.parse("device=~gd{2}")
    assert Matcher.parse("device=~((.+)+)+!").matches({"device": "x" * 5000}) is False
