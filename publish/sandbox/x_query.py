"""The part of X's search query language the X sandbox understands.

Enough for what dialogpress sends and what a brand-monitoring query needs: words (all
must match), ``"exact phrases"``, ``OR``, ``-`` to negate, parentheses, and the
operators ``from:``, ``conversation_id:``, ``is:reply`` and ``is:retweet``. Matching
follows X: case-insensitive, on whole words (``Strom`` does not find ``Stromausfall``);
a word finds a hashtag or mention of the same name, ``#word`` only the hashtag. As on X,
implicit AND binds tighter than ``OR``: ``a b OR c`` is ``(a b) OR c``. Anything else is
refused with the reason, so a test never passes on a query X would read differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Tweet = dict[str, Any]
Predicate = Callable[[Tweet], bool]
# Looks up the handle of a user id (the sandbox's user table).
Handles = Callable[[str], str | None]

_TOKEN = re.compile(
    r'\s*(?:(?P<close>\))|(?P<neg>-)?(?:(?P<open>\()|"(?P<phrase>[^"]*)"|(?P<word>[^\s()"]+)))'
)
_OPERATOR = re.compile(r"^(?P<name>[a-z_]+):(?P<value>.+)$")
_WORD = re.compile(r"[#@$]?\w+(?:['’]\w+)*")
_PREFIXES = "#@$"
MAX_LENGTH = 512  # the query length of the Basic and Pro tiers


class QueryError(ValueError):
    """A query X would refuse, or one the sandbox does not understand."""


@dataclass
class _Token:
    kind: str  # open, close, phrase, word, or
    value: str
    negated: bool


def words(text: str) -> list[str]:
    """``text`` as X matches it: casefolded words, ``#`` and ``@`` kept on their word."""
    return _WORD.findall(text.casefold())


def compile_query(query: str, handles: Handles) -> Predicate:
    """A test of one stored tweet (the sandbox's dict) against ``query``."""
    if not query.strip():
        raise QueryError("the query is empty")
    if len(query) > MAX_LENGTH:
        raise QueryError(f"the query is longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokens(query), handles)
    predicate, positive = parser.expression()
    if parser.position < len(parser.tokens):
        raise QueryError("unbalanced parentheses: ')' without '('")
    if not positive:
        raise QueryError("a query must contain at least one term that is not negated")
    return predicate


def _tokens(query: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            if query[position:].strip():
                raise QueryError(f"cannot read the query at {query[position:]!r}")
            break
        position = match.end()
        negated = bool(match.group("neg"))
        if match.group("close"):
            tokens.append(_Token("close", ")", False))
        elif match.group("open"):
            tokens.append(_Token("open", "(", negated))
        elif match.group("phrase") is not None:
            tokens.append(_Token("phrase", match.group("phrase"), negated))
        elif match.group("word") == "OR" and not negated:
            tokens.append(_Token("or", "OR", False))
        else:
            tokens.append(_Token("word", match.group("word"), negated))
    return tokens


class _Parser:
    """Recursive descent: expression = conjunction (OR conjunction)*; conjunction =
    unit+; unit = [-] ( "(" expression ")" | phrase | operator | word ). Each rule returns
    the predicate and whether it holds a term that is not negated."""

    def __init__(self, tokens: list[_Token], handles: Handles) -> None:
        self.tokens = tokens
        self.position = 0
        self.handles = handles

    def _peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def expression(self) -> tuple[Predicate, bool]:
        alternatives = [self.conjunction()]
        while (token := self._peek()) is not None and token.kind == "or":
            self.position += 1
            alternatives.append(self.conjunction())
        predicates = [predicate for predicate, _ in alternatives]
        positive = all(has_positive for _, has_positive in alternatives)
        if len(predicates) == 1:
            return predicates[0], positive
        return (lambda tweet: any(p(tweet) for p in predicates)), positive

    def conjunction(self) -> tuple[Predicate, bool]:
        parts: list[tuple[Predicate, bool]] = []
        while (token := self._peek()) is not None and token.kind not in ("or", "close"):
            parts.append(self.unit())
        if not parts:
            raise QueryError("OR or ')' without a term before or after it")
        predicates = [predicate for predicate, _ in parts]
        positive = any(has_positive for _, has_positive in parts)
        if len(predicates) == 1:
            return predicates[0], positive
        return (lambda tweet: all(p(tweet) for p in predicates)), positive

    def unit(self) -> tuple[Predicate, bool]:
        token = self.tokens[self.position]
        self.position += 1
        if token.kind == "open":
            predicate, positive = self.expression()
            closing = self._peek()
            if closing is None or closing.kind != "close":
                raise QueryError("unbalanced parentheses: '(' without ')'")
            self.position += 1
        elif token.kind == "phrase":
            predicate, positive = self._phrase(token.value), True
        else:
            predicate, positive = self._word(token.value), True
        if token.negated:
            return (lambda tweet: not predicate(tweet)), False
        return predicate, positive

    def _phrase(self, phrase: str) -> Predicate:
        wanted = words(phrase)
        if not wanted:
            raise QueryError(f"the phrase {phrase!r} has no words")
        return lambda tweet: _contains(words(tweet["text"]), wanted)

    def _word(self, word: str) -> Predicate:
        operator = _OPERATOR.match(word)
        if operator is None:
            wanted = words(word)
            if not wanted:
                raise QueryError(f"{word!r} is not a word X can search for")
            return lambda tweet: _contains(words(tweet["text"]), wanted)
        name, value = operator.group("name"), operator.group("value")
        if name == "from":
            handle = value.removeprefix("@").casefold()
            return lambda tweet: (self.handles(tweet["author_id"]) or "").casefold() == handle
        if name == "conversation_id":
            if not value.isdigit():
                raise QueryError(f"conversation_id takes a post id, not {value!r}")
            return lambda tweet: tweet["conversation_id"] == value
        if name == "is" and value == "reply":
            return lambda tweet: tweet["in_reply_to"] is not None
        if name == "is" and value == "retweet":
            return lambda tweet: False  # the sandbox has no retweets
        raise QueryError(f"Reference to invalid operator '{name}:{value}'")


def _contains(text: list[str], wanted: list[str]) -> bool:
    """Whether the words ``wanted`` occur in ``text`` one after the other; a word without
    ``#``/``@`` also finds the hashtag or mention of that name."""
    size = len(wanted)
    for start in range(len(text) - size + 1):
        if all(
            found == word or (word[0] not in _PREFIXES and found.lstrip(_PREFIXES) == word)
            for found, word in zip(text[start : start + size], wanted, strict=True)
        ):
            return True
    return False
