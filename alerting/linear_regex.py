"""Regular expressions for label matchers (``=~``, ``!~``), matched in time linear in the value.

Silences and inhibition rules are typed by operators and judged in the alerting loop, so a
backtracking engine is not acceptable there: ``((.+)+)+!`` takes Python's ``re`` 13 s on 18
characters. This module accepts the subset of the syntax that label matchers need, refuses the
rest when the matcher is saved (naming the construct), compiles the pattern once into a Thompson
automaton, and matches by walking the set of its states: at most ``states`` steps per character
of the value, never any backtracking.

The subset, fully anchored as in Prometheus (the whole value must match):

- literal characters, and ``\\`` followed by a punctuation character for that character;
- ``.`` (any character but a newline) and classes ``[abc]``, ``[a-z0-9_]``, ``[^-]``;
- groups ``( … )`` and ``(?: … )``, alternation ``|``;
- the quantifiers ``*``, ``+`` and ``?`` on a character, a class or a group.

Not accepted: counted repetition ``{m,n}``, anchors, back-references, look-around, flags, class
escapes such as ``\\d``. Limits: ``MAX_PATTERN_CHARS`` characters of pattern.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_PATTERN_CHARS = 200

CharTest = Callable[[str], bool]


class PatternError(ValueError):
    """A pattern outside the accepted subset; the message names the construct and its position."""


@dataclass(slots=True)
class _State:
    test: CharTest | None = None  # consumes one character that passes the test
    out: int = -1  # next state after the character (test) or the first branch (split)
    alt: int = -1  # second branch of a split (epsilon)
    accept: bool = False


class _Parser:
    """Recursive descent over the subset, emitting automaton fragments (start, dangling outs)."""

    def __init__(self, pattern: str) -> None:
        self.p, self.i = pattern, 0
        self.states: list[_State] = []

    def fail(self, what: str) -> PatternError:
        return PatternError(f"regex {self.p!r}: {what} at position {self.i} is not supported")

    def new(self, **kw: object) -> int:
        self.states.append(_State(**kw))  # type: ignore[arg-type]
        return len(self.states) - 1

    def peek(self) -> str | None:
        return self.p[self.i] if self.i < len(self.p) else None

    # Fragments are (start state, list of (state, which slot) left to patch).
    def alternation(self) -> tuple[int, list[tuple[int, str]]]:
        start, outs = self.sequence()
        while self.peek() == "|":
            self.i += 1
            s2, o2 = self.sequence()
            start = self.new(out=start, alt=s2)
            outs = outs + o2
        return start, outs

    def sequence(self) -> tuple[int, list[tuple[int, str]]]:
        frags = []
        while self.peek() not in (None, "|", ")"):
            frags.append(self.quantified())
        if not frags:  # the empty string: one epsilon state
            e = self.new()
            return e, [(e, "out")]
        start, outs = frags[0]
        for s, o in frags[1:]:
            self.patch(outs, s)
            outs = o
        return start, outs

    def quantified(self) -> tuple[int, list[tuple[int, str]]]:
        start, outs = self.atom()
        q = self.peek()
        if q == "{":
            raise self.fail("counted repetition {m,n}")
        if q not in ("*", "+", "?"):
            return start, outs
        self.i += 1
        if self.peek() in ("*", "+", "?", "{"):
            raise self.fail("a quantifier on a quantifier")
        split = self.new(out=start)
        if q == "*":
            self.patch(outs, split)
            return split, [(split, "alt")]
        if q == "+":
            self.patch(outs, split)
            return start, [(split, "alt")]
        return split, [*outs, (split, "alt")]  # ?

    def atom(self) -> tuple[int, list[tuple[int, str]]]:
        c = self.peek()
        if c == "(":
            self.i += 1
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.peek() == "?":
                raise self.fail("a group extension (?…)")
            frag = self.alternation()
            if self.peek() != ")":
                raise self.fail("an unclosed group")
            self.i += 1
            return frag
        if c == "[":
            test = self.char_class()
        elif c == ".":
            self.i += 1
            test = _not_newline
        elif c == "\\":
            test = _equals(self.escaped())
        elif c in ("*", "+", "?", "{"):
            raise self.fail(f"a quantifier {c!r} with nothing to repeat")
        elif c in ("^", "$"):
            raise self.fail(f"the anchor {c!r} (matchers are anchored already)")
        elif c == "]" or c == "}":
            raise self.fail(f"an unmatched {c!r}")
        else:
            assert c is not None
            self.i += 1
            test = _equals(c)
        s = self.new(test=test)
        return s, [(s, "out")]

    def escaped(self) -> str:
        self.i += 1
        c = self.peek()
        if c is None or c.isalnum():
            raise self.fail(f"the escape \\{c or ''}")
        self.i += 1
        return c

    def char_class(self) -> CharTest:
        self.i += 1
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        chars: set[str] = set()
        ranges: list[tuple[str, str]] = []
        first = True
        while True:
            c = self.peek()
            if c is None:
                raise self.fail("an unclosed class")
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[":
                raise self.fail("a nested class")
            lo = self.escaped() if c == "\\" else self._take()
            if self.peek() == "-" and self.p[self.i + 1 : self.i + 2] not in ("]", ""):
                self.i += 1
                hi = self.escaped() if self.peek() == "\\" else self._take()
                if hi < lo:
                    raise self.fail(f"the reversed range {lo}-{hi}")
                ranges.append((lo, hi))
            else:
                chars.add(lo)
        frozen, spans = frozenset(chars), tuple(ranges)

        def test(ch: str) -> bool:
            hit = ch in frozen or any(a <= ch <= b for a, b in spans)
            return hit != negate

        return test

    def _take(self) -> str:
        c = self.p[self.i]
        self.i += 1
        return c

    def patch(self, outs: list[tuple[int, str]], target: int) -> None:
        for s, slot in outs:
            setattr(self.states[s], slot, target)


def _equals(c: str) -> CharTest:
    return c.__eq__


def _not_newline(ch: str) -> bool:
    return ch != "\n"


class LinearRegex:
    """A pattern of the subset, compiled once; :meth:`fullmatch` is linear in the value."""

    __slots__ = ("_start", "_states", "pattern")

    def __init__(self, pattern: str) -> None:
        if len(pattern) > MAX_PATTERN_CHARS:
            raise PatternError(f"regex of {len(pattern)} characters; at most {MAX_PATTERN_CHARS}")
        parser = _Parser(pattern)
        start, outs = parser.alternation()
        if parser.peek() is not None:
            raise parser.fail(f"an unmatched {parser.peek()!r}")
        parser.patch(outs, parser.new(accept=True))
        self.pattern, self._states, self._start = pattern, parser.states, start

    def _closure(self, seeds: list[int]) -> set[int]:
        """The states reachable without consuming a character (splits and empty states)."""
        seen: set[int] = set()
        stack = list(seeds)
        while stack:
            s = stack.pop()
            if s < 0 or s in seen:
                continue
            seen.add(s)
            st = self._states[s]
            if st.test is None and not st.accept:
                stack.append(st.out)
                stack.append(st.alt)
        return seen

    def fullmatch(self, value: str) -> bool:
        current = self._closure([self._start])
        for ch in value:
            nxt = [st.out for s in current if (st := self._states[s]).test is not None and st.test(ch)]
            if not nxt:
                return False
            current = self._closure(nxt)
        return any(self._states[s].accept for s in current)
