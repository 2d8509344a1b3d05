"""Every answer of the X sandbox, success or error, must match the official X API v2
OpenAPI specification (tests/fixtures/x-api/openapi.json, version 2.167), and so must
every well-formed request body our TwitterChannel sends. Parameter *names* are checked
against X's documentation instead (:data:`X_DOCUMENTED`): the spec copy renames some
(``post.fields``, ``referenced_posts``), which the live API ignores or refuses. A
scenario drives the channel and a few raw requests through all endpoints and error
paths; the sandbox's journal then holds each request and answer, which are validated
against the schema for their path, method, status and content type (``$ref`` resolved
with ``referencing``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from publish.posting.channels import (
    DuplicateContent,
    MediaFile,
    Message,
    RateLimited,
    ReadNotAvailable,
    Rejected,
    TransientError,
    TwitterChannel,
)
from publish.sandbox import Sandbox

SPEC_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "x-api" / "openapi.json"
BASE = "urn:x-api-v2"


def _jsonschema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema: ``type`` also allows null."""
    if isinstance(node, dict):
        converted = {key: _jsonschema(value) for key, value in node.items()}
        if converted.pop("nullable", False) is True and isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
        return converted
    if isinstance(node, list):
        return [_jsonschema(item) for item in node]
    return node


def _absolute(node: Any) -> Any:
    """A schema taken out of the spec, its local ``$ref`` pointing back into the spec."""
    if isinstance(node, dict):
        return {
            key: BASE + value if key == "$ref" and value.startswith("#") else _absolute(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_absolute(item) for item in node]
    return node


class Spec:
    def __init__(self, path: Path) -> None:
        self.document = _jsonschema(json.loads(path.read_text(encoding="utf-8")))
        resource = Resource(contents=self.document, specification=DRAFT4)
        self.registry = Registry().with_resource(BASE, resource)
        templates = sorted(self.document["paths"], key=lambda p: (p.count("{"), p))
        self.paths = [
            (template, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"))
            for template in templates
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        for template, pattern in self.paths:
            if pattern.match(path) and method.lower() in self.document["paths"][template]:
                return template, self.document["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path} is not an operation of the X API v2 spec")

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = Draft4Validator(_absolute(schema), registry=self.registry)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]

    def parameter(self, operation: dict[str, Any], name: str) -> dict[str, Any] | None:
        for parameter in operation.get("parameters", []):
            if "$ref" in parameter:
                parameter = self.document["components"]["parameters"][
                    parameter["$ref"].rsplit("/", 1)[1]
                ]
            if parameter["name"] == name:
                return parameter
        return None


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(SPEC_FILE)


def _typed(schema: dict[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    if kind == "array":
        return [_typed(schema.get("items", {}), item) for item in raw.split(",")]
    if kind == "integer":
        return int(raw) if raw.lstrip("-").isdigit() else raw
    return raw


def response_problems(spec: Spec, entry: dict[str, Any]) -> list[str]:
    where = f"{entry['method']} {entry['path']} -> {entry['status']}"
    _, operation = spec.operation(entry["method"], entry["path"])
    responses = operation["responses"]
    declared = responses.get(str(entry["status"])) or responses.get("default")
    if declared is None:
        return [f"{where}: status not declared"]
    content = declared.get("content", {})
    if entry["content_type"] not in content:
        return [f"{where}: content type {entry['content_type']} not in {sorted(content)}"]
    schema = content[entry["content_type"]]["schema"]
    return [f"{where}: {e}" for e in spec.errors(schema, entry["response"])]


def request_problems(spec: Spec, entry: dict[str, Any]) -> list[str]:
    where = f"{entry['method']} {entry['path']} (request)"
    template, operation = spec.operation(entry["method"], entry["path"])
    problems = []
    path_values = dict(
        zip(re.findall(r"\{([^}]+)\}", template),
            re.match("^" + re.sub(r"\{[^}]+\}", "([^/]+)", template) + "$",
                     entry["path"]).groups(), strict=True)
    )
    for name, raw in {**path_values, **entry["query"]}.items():
        if name in X_RENAMED:
            continue  # X's documented name; its values are checked against X's lists
        parameter = spec.parameter(operation, name)
        if parameter is None:
            problems.append(f"{where}: parameter {name!r} is not in the spec")
            continue
        value = _typed(parameter["schema"], raw)
        problems += [f"{where}: {name}: {e}" for e in spec.errors(parameter["schema"], value)]
    body = entry["request"]
    if body is not None and "requestBody" in operation:
        content = operation["requestBody"]["content"]
        kind = "application/json" if "application/json" in content and not any(
            isinstance(v, dict) and "filename" in v for v in body.values()
        ) else "multipart/form-data"
        if kind == "multipart/form-data":
            body = {k: "binary" if isinstance(v, dict) else v for k, v in body.items()}
        problems += [f"{where}: {e}" for e in spec.errors(content[kind]["schema"], body)]
    return problems


# X's documented query parameters per endpoint (docs.x.com API reference; tweepy 4.17's
# ``endpoint_parameters`` name the same), and the documented values of the list ones.
X_DOCUMENTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/2/users/me"): {"expansions", "tweet.fields", "user.fields"},
    ("GET", "/2/users/{id}/tweets"): {
        "end_time", "exclude", "expansions", "max_results", "media.fields", "pagination_token",
        "place.fields", "poll.fields", "since_id", "start_time", "tweet.fields", "until_id",
        "user.fields",
    },
    ("GET", "/2/tweets/search/recent"): {
        "end_time", "expansions", "max_results", "media.fields", "next_token", "place.fields",
        "poll.fields", "query", "since_id", "sort_order", "start_time", "tweet.fields",
        "until_id", "user.fields",
    },
    ("POST", "/2/tweets"): set(),
    ("DELETE", "/2/tweets/{id}"): set(),
    ("POST", "/2/media/upload"): set(),
    ("POST", "/2/media/metadata"): set(),
}
X_VALUES: dict[str, set[str]] = {
    "tweet.fields": {
        "attachments", "author_id", "card_uri", "community_id", "context_annotations",
        "conversation_id", "created_at", "display_text_range", "edit_controls",
        "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
        "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
        "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets",
        "reply_settings", "scopes", "source", "withheld",
    },
    "expansions": {
        "author_id", "referenced_tweets.id", "referenced_tweets.id.author_id",
        "in_reply_to_user_id", "attachments.media_keys", "attachments.poll_ids",
        "geo.place_id", "entities.mentions.username", "edit_history_tweet_ids",
    },
    "user.fields": {
        "affiliation", "connection_status", "created_at", "description", "entities", "id",
        "location", "most_recent_tweet_id", "name", "pinned_tweet_id", "profile_banner_url",
        "profile_image_url", "protected", "public_metrics", "receives_your_dm",
        "subscription_type", "url", "username", "verified", "verified_type", "withheld",
    },
}
# Parameters whose X name differs from the spec copy's, or whose values do.
X_RENAMED = {"tweet.fields", "expansions", "user.fields"}


def x_parameter_problems(spec: Spec, entry: dict[str, Any]) -> list[str]:
    """Names and list values of one request that X's documentation does not know."""
    template, _ = spec.operation(entry["method"], entry["path"])
    where = f"{entry['method']} {template}"
    documented = X_DOCUMENTED.get((entry["method"], template))
    if documented is None:
        return [f"{where}: an endpoint missing from X_DOCUMENTED"]
    problems = []
    for name, raw in entry["query"].items():
        if name not in documented:
            problems.append(f"{where}: {name!r} is not a documented parameter")
        elif name in X_VALUES:
            problems += [
                f"{where}: {name}={value!r} is not a documented value"
                for value in raw.split(",") if value not in X_VALUES[name]
            ]
    return problems


def drive_every_endpoint(
    sandbox: Sandbox, twitter: TwitterChannel, image: Path, oauth: dict[str, str]
) -> None:
    """Successes and every error the sandbox can give, through the channel where it can."""
    x = sandbox.twitter
    assert twitter.health().ok
    root = twitter.post(Message("Neue Öffnungszeiten ab Montag", link="https://elbtal.example/a"))
    twitter.post(Message("Unser Team", media=[MediaFile(image, "Das Team am Tresen")]))
    twitter.post(Message("2/2 Wir freuen uns!", reply_to=root.remote_id))
    for handle in ("jens_p", "mia", "ole"):
        x.control("inject-comment", in_reply_to=root.remote_id, author_handle=handle,
                  author_name=handle.title(), text=f"Gruß von {handle}")
    page = twitter.fetch_comments(root.remote_id, None)
    twitter.fetch_comments(root.remote_id, page.cursor)
    answer = twitter.reply(page.comments[0].remote_id, "Danke für den Gruß!")
    found = twitter.find_reply(page.comments[0].remote_id, "Danke für den Gruß!")
    assert found is not None and found.remote_id == answer.remote_id
    x.control("inject-comment", author_handle="lea", text="Die Stadtwerke Elbtal sind toll")
    mentions = twitter.search_mentions('"Stadtwerke Elbtal" OR (Öffnungszeiten -from:ole)', None)
    twitter.search_mentions("Stadtwerke Elbtal", mentions.cursor)
    with pytest.raises(Rejected):
        twitter.search_mentions("(Stadtwerke", None)
    twitter.recent_posts(datetime.now(UTC) - timedelta(hours=1))
    twitter.recent_posts(datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(DuplicateContent):
        twitter.post(Message("2/2 Wir freuen uns!"))
    with pytest.raises(Rejected):
        twitter.post(Message("Ins Leere", reply_to="1234"))
    with pytest.raises(Rejected):
        twitter.post(Message("x" * 281))
    doomed = twitter.post(Message("Gleich wieder weg"))
    twitter.delete(doomed.remote_id)
    twitter.delete(doomed.remote_id)
    url = sandbox.twitter_url
    metadata = {"id": "42", "metadata": {"alt_text": {"text": "weg"}}}
    assert requests.post(f"{url}/2/media/metadata", json=metadata, headers=oauth,
                         timeout=5).status_code == 404
    assert requests.post(f"{url}/2/tweets", json={"text": ""}, headers=oauth,
                         timeout=5).status_code == 400
    assert requests.post(f"{url}/2/tweets", json={"txt": "Tippfehler"}, headers=oauth,
                         timeout=5).status_code == 400
    for status in (503, 500):
        x.fail(method="POST", path="/2/tweets", error="server", status=status)
        with pytest.raises(TransientError):
            twitter.post(Message("Später"))
    x.control("set-tier", tier="free")
    with pytest.raises(ReadNotAvailable):
        twitter.fetch_comments(root.remote_id, None)
    x.control("set-tier", tier="basic")
    x.fail(method="GET", path="/2/tweets/search", error="rate_limit", reset_in=900)
    with pytest.raises(RateLimited):
        twitter.fetch_comments(root.remote_id, None)
    x.control("revoke-token")
    assert not twitter.health().ok


EXPECTED = {
    ("GET", "/2/users/me", 200), ("GET", "/2/users/me", 401),
    ("POST", "/2/tweets", 201), ("POST", "/2/tweets", 400), ("POST", "/2/tweets", 403),
    ("POST", "/2/tweets", 500), ("POST", "/2/tweets", 503),
    ("POST", "/2/media/upload", 200), ("POST", "/2/media/metadata", 200),
    ("POST", "/2/media/metadata", 404),
    ("DELETE", "/2/tweets/{id}", 200), ("DELETE", "/2/tweets/{id}", 404),
    ("GET", "/2/tweets/search/recent", 200), ("GET", "/2/tweets/search/recent", 400),
    ("GET", "/2/tweets/search/recent", 403),
    ("GET", "/2/tweets/search/recent", 429),
    ("GET", "/2/users/{id}/tweets", 200),
}


def test_every_x_sandbox_answer_matches_the_openapi_spec(
    spec: Spec, sandbox: Sandbox, twitter: TwitterChannel, tmp_path: Path,
    oauth: dict[str, str],
) -> None:
    image = tmp_path / "team.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    drive_every_endpoint(sandbox, twitter, image, oauth)

    journal = sandbox.twitter.requests()
    covered = {(e["method"], spec.operation(e["method"], e["path"])[0], e["status"])
               for e in journal}
    assert covered >= EXPECTED, f"not exercised: {sorted(EXPECTED - covered)}"
    content_types = {e["content_type"] for e in journal}
    assert content_types == {"application/json", "application/problem+json"}
    problems = [p for entry in journal for p in response_problems(spec, entry)]
    assert problems == []


def test_every_request_of_the_channel_matches_the_openapi_spec(
    spec: Spec, sandbox: Sandbox, twitter: TwitterChannel, tmp_path: Path,
    oauth: dict[str, str],
) -> None:
    image = tmp_path / "team.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    drive_every_endpoint(sandbox, twitter, image, oauth)

    journal = [e for e in sandbox.twitter.requests() if e["status"] != 400]  # 400: on purpose
    assert {e["path"] for e in journal} >= {"/2/tweets", "/2/media/upload", "/2/media/metadata",
                                            "/2/tweets/search/recent", "/2/users/me"}
    problems = [p for entry in journal for p in request_problems(spec, entry)]
    assert problems == []


def test_the_validator_catches_a_wrong_answer(spec: Spec) -> None:
    """The checks above mean something only if a non-conforming body fails them."""
    entry = {"method": "POST", "path": "/2/tweets", "status": 201,
             "content_type": "application/json", "response": {"data": {"id": "abc"}}}
    problem = {"method": "POST", "path": "/2/tweets", "status": 403,
               "content_type": "application/problem+json",
               "response": {"type": "about:blank", "title": "Forbidden", "detail": "dup"}}

    assert any("'text' is a required property" in p for p in response_problems(spec, entry))
    assert response_problems(spec, problem) != []
    search = {"method": "GET", "path": "/2/tweets/search/recent", "request": None,
              "query": {"query": "conversation_id:1", "tweet.field": "created_at",
                        "max_results": "5"}}
    problems = request_problems(spec, search)
    assert any("'tweet.field' is not in the spec" in p for p in problems)
    assert any("5 is less than the minimum of 10" in p for p in problems)


def test_every_x_call_uses_the_parameter_names_of_x_documentation(
    spec: Spec, sandbox: Sandbox, twitter: TwitterChannel, tmp_path: Path,
    oauth: dict[str, str],
) -> None:
    image = tmp_path / "team.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    drive_every_endpoint(sandbox, twitter, image, oauth)
    sandbox.twitter.control("revoke-token", revoked=False)
    assert twitter.find_reply("1900000000000000001", "nichts") is None

    journal = [e for e in sandbox.twitter.requests() if e["query"] or e["method"] != "GET"]
    reads = {(e["method"], spec.operation(e["method"], e["path"])[0]) for e in journal
             if e["method"] == "GET"}
    assert reads == {("GET", "/2/users/{id}/tweets"), ("GET", "/2/tweets/search/recent")}
    problems = [p for entry in journal for p in x_parameter_problems(spec, entry)]
    assert problems == []
    searches = [e["query"] for e in journal if e["path"] == "/2/tweets/search/recent"]
    assert all("created_at" in q["tweet.fields"].split(",") for q in searches)
    assert all("referenced_tweets.id" in q["expansions"].split(",") for q in searches)


def test_the_parameter_check_catches_the_spec_copys_names(spec: Spec) -> None:
    """The check above means something only if the renamed names fail it."""
    entry = {"method": "GET", "path": "/2/tweets/search/recent",
             "query": {"query": "x", "post.fields": "created_at",
                       "expansions": "author_id,referenced_posts"}}

    problems = x_parameter_problems(spec, entry)

    assert any("'post.fields' is not a documented parameter" in p for p in problems)
    assert any("'referenced_posts' is not a documented value" in p for p in problems)
