"""The client's guideline (the "social media primer") as a file an account manager edits.

Agencies write for a client under rules the client sets: which topics are theirs, what
must never be said, what needs a disclosure, who gets a hot comment, how fast customers
get an answer. Those rules live in ``guideline.yml`` at the site's root, in YAML with
comments, because the people who own them are account managers, not programmers; the
format is described in ``docs/guideline.md``.

A mistake in the file stops every check with a :class:`GuidelineError` that names the
file, the line and the field: a half-read guideline would let through exactly what it
was meant to stop. A site without the file is checked against the platforms' own limits
only (X 280 weighted characters, Facebook 63,206 characters), with a warning in the log.
"""

from __future__ import annotations

import difflib
import functools
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from editorial.business_hours import (
    WEEKDAYS,
    BusinessHours,
    Span,
    Target,
    parse_duration,
    parse_spans,
)
from editorial.findings import Severity
from editorial.length import PLATFORM_LIMITS, PLATFORM_MEDIA, links
from editorial.phrases import (
    Embedding,
    FoldedText,
    Match,
    hidden_spans,
    join_regexes,
    pattern_regex,
    phrase_regex,
)
from editorial.settings import (
    CHANNELS,
    DataFileError,
    Settings,
    editorial_settings,
    settings_root,
    site_zone,
)
from editorial.times import TimeError, zone

logger = logging.getLogger(__name__)

LinkRule = Literal["allowed", "required", "forbidden"]
LINK_RULES: tuple[LinkRule, ...] = ("allowed", "required", "forbidden")
SEVERITIES: tuple[Severity, ...] = ("error", "warning")
#: what ``compound:`` may say; ``word`` (whole words) is the default
COMPOUNDS: tuple[str, ...] = ("prefix", "suffix", "any", "word")
#: the name under ``response_times.targets`` for every category without its own target
DEFAULT_TARGET = "default"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class GuidelineError(DataFileError):
    """The guideline file cannot be used; the message names file, line and field."""


@dataclass(frozen=True)
class Forbidden:
    """Something an agent must never write, as a phrase or a pattern.

    ``compound`` says how a phrase may be embedded in longer words (see
    :func:`editorial.phrases.phrase_regex`); a finding names it, so that whoever tunes
    the rule sees why a word was hit.
    """

    label: str
    regex: re.Pattern[str]
    severity: Severity = "error"
    reason: str | None = None
    instead: str | None = None
    compound: Embedding = "word"


@dataclass(frozen=True)
class Disclosure:
    """What a piece must carry when it is sponsored (or has a tag or a category)."""

    any_of: tuple[str, ...]
    regexes: tuple[re.Pattern[str], ...]
    sponsored: bool = False
    tag: str | None = None
    category: str | None = None
    reason: str | None = None

    def applies(self, sponsored: bool, tags: Iterable[str], category: str | None) -> bool:
        if self.sponsored:
            return sponsored
        if self.tag is not None:
            return self.tag.casefold() in {t.casefold() for t in tags}
        return category is not None and category == self.category

    @property
    def condition(self) -> str:
        if self.sponsored:
            return "sponsored"
        return f"tagged '{self.tag}'" if self.tag is not None else f"in '{self.category}'"

    def found_in(self, text: str) -> bool:
        """Whether ``text`` carries the disclosure where a reader sees it: a word inside
        a URL (``…/#anzeige``) or a link target does not count."""
        urls = [(url.start, url.end) for url in links(text)] if "." in text else []
        folded = FoldedText(text, hidden_spans(text, urls))
        return any(folded.find(regex) for regex in self.regexes)


@dataclass(frozen=True)
class ChannelRules:
    """What one network's texts must keep to under this guideline."""

    max_length: int
    max_media: int | None = None
    links: LinkRule = "allowed"
    max_hashtags: int | None = None


@dataclass(frozen=True)
class Contact:
    """A person (or desk) that escalated comments go to."""

    id: str
    name: str
    email: str
    role: str = ""


@dataclass(frozen=True)
class Trigger:
    """Words or patterns in a comment that hand it to a contact, filed under a category."""

    regexes: tuple[re.Pattern[str], ...]
    category: str
    contact: Contact

    def matches(self, folded: FoldedText) -> list[Match]:
        return [m for regex in self.regexes for m in folded.find(regex)]


def default_channels() -> dict[str, ChannelRules]:
    return {
        name: ChannelRules(max_length=PLATFORM_LIMITS[name], max_media=PLATFORM_MEDIA[name])
        for name in CHANNELS
    }


@dataclass(frozen=True)
class Guideline:
    """Everything a check, the moderation queue and the SLA need from the client's rules."""

    path: Path | None = None
    client: str | None = None
    topics: tuple[str, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()
    disclosures: tuple[Disclosure, ...] = ()
    channels: dict[str, ChannelRules] = field(default_factory=default_channels)
    contacts: dict[str, Contact] = field(default_factory=dict)
    escalation: tuple[Trigger, ...] = ()
    sensitive: frozenset[str] = frozenset()
    hours: BusinessHours | None = None
    targets: dict[str, Target] = field(default_factory=dict)

    def channel(self, name: str) -> ChannelRules:
        """The rules for ``name``; a channel the file does not mention gets the platform's."""
        return self.channels.get(name) or default_channels().get(
            name, ChannelRules(max_length=PLATFORM_LIMITS["facebook"])
        )

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category the file knows: the topics and those with a response-time target."""
        extra = [n for n in self.targets if n != DEFAULT_TARGET and n not in self.topics]
        return (*self.topics, *extra)

    @functools.cached_property
    def escalation_filter(self) -> re.Pattern[str] | None:
        """Every escalation trigger's regexes joined into one (None: cannot be joined, or
        no triggers): a text it finds nothing in sets off no trigger."""
        return join_regexes(regex for trigger in self.escalation for regex in trigger.regexes)

    def is_sensitive(self, category: str | None) -> bool:
        """Answers in a sensitive category need a second person's approval."""
        return category is not None and category in self.sensitive

    def target(self, category: str | None) -> Target | None:
        return self.targets.get(category or DEFAULT_TARGET) or self.targets.get(DEFAULT_TARGET)

    def response_due(self, received_at: datetime, category: str | None) -> datetime | None:
        """When the answer to a comment in ``category`` is due, in UTC; None without a target.

        ``h``/``m`` targets count business hours, ``d`` business days, and a target
        marked ``around_the_clock`` counts real time (see :mod:`editorial.business_hours`).
        """
        target = self.target(category)
        if target is None:
            return None
        if self.hours is None:  # targets always come with hours when loaded from a file
            raise ValueError("the guideline has response-time targets but no business hours")
        return self.hours.due(received_at, target)


def escalation_for(
    text: str, guideline: Guideline, folded: FoldedText | None = None
) -> tuple[str, Contact] | None:
    """The category and contact of the first trigger that ``text`` sets off, if any.

    Most comments set off none: one scan with all triggers' regexes joined
    (:attr:`Guideline.escalation_filter`) says so, and only a text it finds something in
    is tried trigger by trigger (:func:`escalation_by_rule`), which decides. ``folded``
    is ``text`` folded already, when the caller has it.
    """
    folded = folded if folded is not None else FoldedText(text)
    quick = guideline.escalation_filter
    if quick is not None and quick.search(folded.text) is None:
        return None
    return escalation_by_rule(text, guideline, folded)


def escalation_by_rule(
    text: str, guideline: Guideline, folded: FoldedText | None = None
) -> tuple[str, Contact] | None:
    """:func:`escalation_for` without the joined scan: each trigger's regexes in turn."""
    folded = folded if folded is not None else FoldedText(text)
    for trigger in guideline.escalation:
        if trigger.matches(folded):
            return trigger.category, trigger.contact
    return None


# --- reading the file --------------------------------------------------------------------


class _Reader:
    """Walks the YAML node tree so that every value keeps its line for error messages."""

    def __init__(self, path: Path, display: str):
        self.path = path
        self.display = display
        self._constructor = yaml.constructor.SafeConstructor()

    def error(self, node: yaml.Node | None, field: str | None, message: str) -> GuidelineError:
        line = node.start_mark.line + 1 if node is not None else None
        return GuidelineError(self.display, line, field, message)

    def value(self, node: yaml.Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def mapping(
        self,
        node: yaml.Node,
        field: str,
        known: Iterable[str] | None = None,
        required: Iterable[str] = (),
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Keys to (key node, value node); unknown, duplicate and missing keys are errors."""
        label = field or "the file"
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, field or None, f"{label} must be a set of 'key: value' lines")
        known_keys = list(known) if known is not None else None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = str(self.value(key_node))
            path = f"{field}.{key}" if field else key
            if key in out:
                raise self.error(key_node, path, f"'{key}' is given twice; keep one")
            if known_keys is not None and key not in known_keys:
                close = difflib.get_close_matches(key, known_keys, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise self.error(
                    key_node,
                    path,
                    f"unknown key '{key}'; {hint}known keys here: {', '.join(known_keys)}",
                )
            out[key] = (key_node, value_node)
        for key in required:
            if key not in out:
                path = f"{field}.{key}" if field else key
                raise self.error(node, path, f"'{key}' is missing here")
        return out

    def sequence(self, node: yaml.Node, field: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, field, "must be a list (lines starting with '- ')")
        return list(node.value)

    def text(self, node: yaml.Node, field: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.error(node, field, "must be a text")
        text = str(self.value(node)).strip()
        if not text:
            raise self.error(node, field, "must not be empty")
        return text

    def texts(self, node: yaml.Node, field: str) -> list[tuple[str, yaml.Node, str]]:
        """A text or a list of texts, each with its node and field path."""
        if isinstance(node, yaml.ScalarNode):
            return [(self.text(node, field), node, field)]
        items = self.sequence(node, field)
        if not items:
            raise self.error(node, field, "must name at least one entry")
        return [(self.text(n, f"{field}[{i}]"), n, f"{field}[{i}]") for i, n in enumerate(items)]

    def flag(self, node: yaml.Node, field: str) -> bool:
        value = self.value(node)
        if not isinstance(value, bool):
            raise self.error(node, field, "must be true or false")
        return value

    def count(self, node: yaml.Node, field: str, maximum: int | None = None) -> int:
        value = self.value(node)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(node, field, "must be a whole number (0 or more)")
        if maximum is not None and value > maximum:
            raise self.error(node, field, f"must be at most {maximum:,} (the platform's limit)")
        return value

    def choice(self, node: yaml.Node, field: str, allowed: Iterable[str]) -> str:
        value = self.text(node, field)
        options = list(allowed)
        if value not in options:
            raise self.error(node, field, f"must be one of {', '.join(options)}, not '{value}'")
        return value

    def regex(
        self, node: yaml.Node, field: str, build: Callable[[str], re.Pattern[str]]
    ) -> re.Pattern[str]:
        text = self.text(node, field)
        try:
            return build(text)
        except re.error as exc:
            raise self.error(
                node, field, f"not a valid regular expression ({exc.msg} at position {exc.pos})"
            ) from None
        except ValueError as exc:
            raise self.error(node, field, str(exc)) from None


_TOP = (
    "client", "topics", "forbidden", "disclosures", "channels", "contacts", "escalation",
    "sensitive", "response_times",
)


def load_guideline(path: str | os.PathLike[str], timezone: str = "Europe/Berlin") -> Guideline:
    """Read and check ``guideline.yml``; any mistake is a :class:`GuidelineError`.

    ``timezone`` is used for business hours when the file names none (the site's zone).
    """
    file = Path(path)
    display = _display(file)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GuidelineError(display, None, None, "the guideline file does not exist") from None
    except UnicodeDecodeError:
        raise GuidelineError(
            display, None, None, "the file is not UTF-8; save it as UTF-8 in your editor"
        ) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = ""
        if exc.context and exc.context_mark and exc.context_mark is not mark:
            context = f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise GuidelineError(
            display,
            mark.line + 1 if mark else None,
            None,
            f"not valid YAML: {exc.problem}{context}; check quotes, colons and indentation",
        ) from None
    if root is None:
        raise GuidelineError(
            display, 1, None, "the file is empty; fill it in (see docs/guideline.md) or delete it"
        )
    reader = _Reader(file, display)
    keys = reader.mapping(root, "", _TOP)

    def node(name: str) -> yaml.Node | None:
        return keys[name][1] if name in keys else None

    client = reader.text(keys["client"][1], "client") if "client" in keys else None
    topics = _topics(reader, node("topics"))
    forbidden = _forbidden(reader, node("forbidden"))
    channels = _channels(reader, node("channels"))
    contacts = _contacts(reader, node("contacts"))
    hours, targets = _response_times(reader, node("response_times"), timezone)
    known = Guideline(topics=topics, targets=targets).categories
    disclosures = _disclosures(reader, node("disclosures"), topics)
    escalation = _escalation(reader, node("escalation"), contacts, known)
    sensitive = _sensitive(reader, node("sensitive"), known)
    return Guideline(
        path=file,
        client=client,
        topics=topics,
        forbidden=forbidden,
        disclosures=disclosures,
        channels=channels,
        contacts=contacts,
        escalation=escalation,
        sensitive=sensitive,
        hours=hours,
        targets=targets,
    )


def guideline_for(settings: Settings) -> Guideline:
    """The site's guideline (``GUIDELINE`` relative to the settings file), or the defaults.

    ``GUIDELINE = None`` means "no guideline" on purpose; a named file that is missing
    falls back to the defaults with a warning, so that a new site can be checked at once.
    """
    name = editorial_settings(settings).guideline
    if name is None:
        return Guideline()
    path = settings_root(settings) / name
    if not path.is_file():
        logger.warning(
            "no guideline file at %s: checking platform limits only (see docs/guideline.md)",
            _display(path),
        )
        return Guideline()
    return load_guideline(path, site_zone(settings).key)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _topics(reader: _Reader, node: yaml.Node | None) -> tuple[str, ...]:
    if node is None:
        return ()
    topics: list[str] = []
    for text, item, path in reader.texts(node, "topics"):
        if text in topics:
            raise reader.error(item, path, f"'{text}' is listed twice")
        topics.append(text)
    return tuple(topics)


def _severity(reader: _Reader, keys: dict[str, tuple[yaml.Node, yaml.Node]], path: str) -> Any:
    if "severity" not in keys:
        return "error"
    return reader.choice(keys["severity"][1], f"{path}.severity", SEVERITIES)


def _optional_text(
    reader: _Reader, keys: dict[str, tuple[yaml.Node, yaml.Node]], name: str, path: str
) -> str | None:
    return reader.text(keys[name][1], f"{path}.{name}") if name in keys else None


def _forbidden(reader: _Reader, node: yaml.Node | None) -> tuple[Forbidden, ...]:
    if node is None:
        return ()
    rules: list[Forbidden] = []
    for index, item in enumerate(reader.sequence(node, "forbidden")):
        path = f"forbidden[{index}]"
        keys = reader.mapping(
            item,
            path,
            (
                *("phrase", "phrases", "pattern", "inflect", "compound"),
                *("reason", "instead", "severity"),
            ),
        )
        given = [k for k in ("phrase", "phrases", "pattern") if k in keys]
        if len(given) != 1:
            raise reader.error(
                item,
                path,
                "give exactly one of 'phrase' (words), 'phrases' (a list of words) or "
                f"'pattern' (a regular expression); found {', '.join(given) or 'none'}",
            )
        inflect = reader.flag(keys["inflect"][1], f"{path}.inflect") if "inflect" in keys else False
        severity = _severity(reader, keys, path)
        reason = _optional_text(reader, keys, "reason", path)
        instead = _optional_text(reader, keys, "instead", path)
        compound: Any = "word"
        if "compound" in keys:
            compound = reader.choice(keys["compound"][1], f"{path}.compound", COMPOUNDS)
        kind = given[0]
        if kind == "pattern":
            for key, what in (("inflect", "endings"), ("compound", "the word boundaries")):
                if key in keys:
                    raise reader.error(
                        keys[key][0],
                        f"{path}.{key}",
                        f"'{key}' works with 'phrase' only; write {what} into the pattern",
                    )
            pattern_node = keys["pattern"][1]
            regex = reader.regex(pattern_node, f"{path}.pattern", pattern_regex)
            label = reader.text(pattern_node, f"{path}.pattern")
            rules.append(Forbidden(label, regex, severity, reason, instead))
            continue
        build = functools.partial(phrase_regex, inflect=inflect, compound=compound)
        for text, phrase_node, phrase_path in reader.texts(keys[kind][1], f"{path}.{kind}"):
            regex = reader.regex(phrase_node, phrase_path, build)
            rules.append(Forbidden(text, regex, severity, reason, instead, compound))
    return tuple(rules)


def _disclosures(
    reader: _Reader, node: yaml.Node | None, topics: tuple[str, ...]
) -> tuple[Disclosure, ...]:
    if node is None:
        return ()
    found: list[Disclosure] = []
    for index, item in enumerate(reader.sequence(node, "disclosures")):
        path = f"disclosures[{index}]"
        keys = reader.mapping(item, path, ("when", "any_of", "reason"), required=("when", "any_of"))
        when = keys["when"][1]
        sponsored, tag, category = False, None, None
        if isinstance(when, yaml.ScalarNode):
            reader.choice(when, f"{path}.when", ("sponsored",))
            sponsored = True
        else:
            condition = reader.mapping(when, f"{path}.when", ("tag", "category"))
            if len(condition) != 1:
                raise reader.error(
                    when, f"{path}.when", "write 'sponsored', or one of 'tag: …' or 'category: …'"
                )
            if "tag" in condition:
                tag = reader.text(condition["tag"][1], f"{path}.when.tag")
            else:
                category = reader.text(condition["category"][1], f"{path}.when.category")
                if topics and category not in topics:
                    raise reader.error(
                        condition["category"][1],
                        f"{path}.when.category",
                        f"'{category}' is not one of the topics ({', '.join(topics)})",
                    )
        words = reader.texts(keys["any_of"][1], f"{path}.any_of")
        regexes = tuple(reader.regex(n, p, phrase_regex) for _, n, p in words)
        found.append(
            Disclosure(
                any_of=tuple(text for text, _, _ in words),
                regexes=regexes,
                sponsored=sponsored,
                tag=tag,
                category=category,
                reason=_optional_text(reader, keys, "reason", path),
            )
        )
    return tuple(found)


def _channels(reader: _Reader, node: yaml.Node | None) -> dict[str, ChannelRules]:
    channels = default_channels()
    if node is None:
        return channels
    for name, (key_node, value_node) in reader.mapping(node, "channels").items():
        channel = "twitter" if name.lower() == "x" else name.lower()
        path = f"channels.{name}"
        if channel not in CHANNELS:
            raise reader.error(
                key_node, path, f"unknown channel '{name}'; known channels: {', '.join(CHANNELS)}"
            )
        keys = reader.mapping(
            value_node, path, ("max_length", "max_media", "links", "max_hashtags")
        )
        limit = PLATFORM_LIMITS[channel]
        rules = channels[channel]
        max_length = rules.max_length
        if "max_length" in keys:
            max_length = reader.count(keys["max_length"][1], f"{path}.max_length", limit)
            if max_length == 0:
                raise reader.error(keys["max_length"][1], f"{path}.max_length", "must be above 0")
        max_media = rules.max_media
        if "max_media" in keys:
            max_media = reader.count(
                keys["max_media"][1], f"{path}.max_media", PLATFORM_MEDIA[channel]
            )
        links: Any = rules.links
        if "links" in keys:
            links = reader.choice(keys["links"][1], f"{path}.links", LINK_RULES)
        max_hashtags = rules.max_hashtags
        if "max_hashtags" in keys:
            max_hashtags = reader.count(keys["max_hashtags"][1], f"{path}.max_hashtags")
        channels[channel] = ChannelRules(max_length, max_media, links, max_hashtags)
    return channels


def _contacts(reader: _Reader, node: yaml.Node | None) -> dict[str, Contact]:
    if node is None:
        return {}
    contacts: dict[str, Contact] = {}
    for index, item in enumerate(reader.sequence(node, "contacts")):
        path = f"contacts[{index}]"
        keys = reader.mapping(item, path, ("id", "name", "email", "role"))
        for required, hint in (
            ("id", "a short name triggers refer to, e.g. 'pressestelle'"),
            ("name", "the person or desk"),
            ("email", "the address escalations go to"),
        ):
            if required not in keys:
                raise reader.error(item, f"{path}.{required}", f"missing; add {hint}")
        contact_id = reader.text(keys["id"][1], f"{path}.id")
        if not _ID.match(contact_id):
            raise reader.error(
                keys["id"][1], f"{path}.id", "use letters, digits, '-', '_' or '.' only"
            )
        if contact_id in contacts:
            raise reader.error(keys["id"][1], f"{path}.id", f"the id '{contact_id}' is used twice")
        email = reader.text(keys["email"][1], f"{path}.email")
        if not _EMAIL.match(email):
            raise reader.error(
                keys["email"][1], f"{path}.email", f"'{email}' is not an e-mail address"
            )
        contacts[contact_id] = Contact(
            id=contact_id,
            name=reader.text(keys["name"][1], f"{path}.name"),
            email=email,
            role=_optional_text(reader, keys, "role", path) or "",
        )
    return contacts


def _escalation(
    reader: _Reader,
    node: yaml.Node | None,
    contacts: dict[str, Contact],
    known: tuple[str, ...],
) -> tuple[Trigger, ...]:
    if node is None:
        return ()
    triggers: list[Trigger] = []
    for index, item in enumerate(reader.sequence(node, "escalation")):
        path = f"escalation[{index}]"
        keys = reader.mapping(
            item,
            path,
            ("words", "patterns", "inflect", "category", "contact"),
            required=("category", "contact"),
        )
        if "words" not in keys and "patterns" not in keys:
            raise reader.error(item, f"{path}.words", "give 'words', 'patterns' or both")
        inflect = reader.flag(keys["inflect"][1], f"{path}.inflect") if "inflect" in keys else False
        regexes: list[re.Pattern[str]] = []
        if "words" in keys:
            for _, word_node, word_path in reader.texts(keys["words"][1], f"{path}.words"):
                regexes.append(
                    reader.regex(
                        word_node, word_path, functools.partial(phrase_regex, inflect=inflect)
                    )
                )
        if "patterns" in keys:
            for _, pattern_node, pattern_path in reader.texts(
                keys["patterns"][1], f"{path}.patterns"
            ):
                regexes.append(reader.regex(pattern_node, pattern_path, pattern_regex))
        category_node = keys["category"][1]
        category = reader.text(category_node, f"{path}.category")
        if category not in known:
            raise reader.error(
                category_node,
                f"{path}.category",
                f"unknown category '{category}'; use one of the topics or a category with a "
                f"response-time target: {', '.join(known) or '(none defined)'}",
            )
        contact_node = keys["contact"][1]
        contact_id = reader.text(contact_node, f"{path}.contact")
        if contact_id not in contacts:
            raise reader.error(
                contact_node,
                f"{path}.contact",
                f"unknown contact '{contact_id}'; contacts: {', '.join(contacts) or '(none)'}",
            )
        triggers.append(Trigger(tuple(regexes), category, contacts[contact_id]))
    return tuple(triggers)


def _sensitive(reader: _Reader, node: yaml.Node | None, known: tuple[str, ...]) -> frozenset[str]:
    if node is None:
        return frozenset()
    names: set[str] = set()
    for text, item, path in reader.texts(node, "sensitive"):
        if text not in known:
            raise reader.error(
                item,
                path,
                f"unknown category '{text}'; known categories: {', '.join(known) or '(none)'}",
            )
        names.add(text)
    return frozenset(names)


def _response_times(
    reader: _Reader, node: yaml.Node | None, default_zone: str
) -> tuple[BusinessHours | None, dict[str, Target]]:
    if node is None:
        return None, {}
    keys = reader.mapping(
        node,
        "response_times",
        ("timezone", "business_hours", "closed_on", "targets"),
        required=("business_hours", "targets"),
    )
    zone_name = default_zone
    if "timezone" in keys:
        zone_name = reader.text(keys["timezone"][1], "response_times.timezone")
    try:
        tz = zone(zone_name)
    except TimeError as exc:
        raise reader.error(
            keys["timezone"][1] if "timezone" in keys else node, "response_times.timezone", str(exc)
        ) from None
    week = _week(reader, keys["business_hours"][1])
    closed: set[date] = set()
    if "closed_on" in keys:
        days = reader.sequence(keys["closed_on"][1], "response_times.closed_on")
        for index, item in enumerate(days):
            value = reader.value(item)
            if not isinstance(value, date) or isinstance(value, datetime):
                raise reader.error(
                    item,
                    f"response_times.closed_on[{index}]",
                    "must be a date such as 2026-12-24",
                )
            closed.add(value)
    targets: dict[str, Target] = {}
    written = reader.mapping(keys["targets"][1], "response_times.targets")
    for name, (_, value_node) in written.items():
        targets[name] = _target(reader, value_node, f"response_times.targets.{name}")
    if not targets:
        raise reader.error(keys["targets"][1], "response_times.targets", "name at least one target")
    return BusinessHours(tz, week, frozenset(closed)), targets


def _week(reader: _Reader, node: yaml.Node) -> dict[int, tuple[Span, ...]]:
    week: dict[int, tuple[Span, ...]] = {}
    written = reader.mapping(node, "response_times.business_hours")
    for name, (key_node, value_node) in written.items():
        path = f"response_times.business_hours.{name}"
        days = _weekdays(name)
        if days is None:
            raise reader.error(
                key_node,
                path,
                f"'{name}' is not a weekday; write mo, di, mi, do, fr, sa, so (or mon … sun) "
                "or a range such as mo-fr",
            )
        try:
            spans = parse_spans(reader.text(value_node, path))
        except ValueError as exc:
            raise reader.error(value_node, path, str(exc)) from None
        for day in days:
            if day in week:
                raise reader.error(key_node, path, "this weekday is already given above")
            week[day] = spans
    if not any(week.values()):
        raise reader.error(
            node, "response_times.business_hours", "at least one day needs opening hours"
        )
    return week


def _weekdays(name: str) -> list[int] | None:
    parts = [p.strip().lower() for p in name.split("-")]
    if not all(p in WEEKDAYS for p in parts) or len(parts) > 2:
        return None
    first, last = WEEKDAYS[parts[0]], WEEKDAYS[parts[-1]]
    if last < first:
        return None
    return list(range(first, last + 1))


def _target(reader: _Reader, node: yaml.Node, path: str) -> Target:
    around = False
    within_node = node
    within_path = path
    if isinstance(node, yaml.MappingNode):
        keys = reader.mapping(node, path, ("within", "around_the_clock"), required=("within",))
        within_node, within_path = keys["within"][1], f"{path}.within"
        if "around_the_clock" in keys:
            around = reader.flag(keys["around_the_clock"][1], f"{path}.around_the_clock")
    try:
        duration = parse_duration(reader.text(within_node, within_path))
    except ValueError as exc:
        raise reader.error(within_node, within_path, str(exc)) from None
    return Target(duration, around)
