"""The X API v2 subset dialogpress uses, answered from memory.

Paths and bodies follow the X API v2 OpenAPI specification 2.167 (the tests validate
every answer against it); parameter *names* follow X's documentation and the live API
(``tweet.fields``, ``expansions=referenced_tweets.id``), which is what tweepy sends. The
spec copy renames some of them (``post.fields``, ``referenced_posts``); since X's own
OpenAPI publishes those, they are taken without an error — ``post.fields`` selects no
field, as on the live API, where a client sending only it gets no ``created_at`` — and an
answer to a request in the spec's names uses the spec's body names
(``referenced_posts``, ``includes.posts``, ``edit_history_post_ids``), one in X's names
X's (``referenced_tweets``, ``includes.tweets``, ``edit_history_tweet_ids``).

Like X: a ``*.fields`` parameter the endpoint does not know is ignored (the fields it
asked for are simply missing), an unknown expansion or other parameter is a 400 whose
reason is in ``errors[].message`` (the top-level ``detail`` is X's generic line); post
text comes back entity-escaped (``&amp;``, ``&lt;``, ``&gt;``); a reply's text starts
with the @handles X prepends (the author answered and the handles leading the answered
post, never our own); recent search sees the last seven days only and answers 400 to a
``since_id`` older than that; posting the same text twice is a 403 duplicate.

Error bodies take the spec's shapes:
``application/problem+json`` where one of its problem types fits (invalid request, not
found, disallowed resource (the duplicate-content 403), internal error) and the
``application/json`` ``Error`` shape (``code`` + ``message``, plus the ``title``,
``detail`` and ``status`` X sends) for 401, 429 and the free tier's 403, for which the
spec has no problem type. Every answer carries ``x-rate-limit-limit``,
``x-rate-limit-remaining`` and ``x-rate-limit-reset``, per endpoint and 15-minute window.

Authentication: any ``Authorization: OAuth ...`` header whose ``oauth_consumer_key`` is
the configured one (the HMAC signature is not checked: clients sign for the public host).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from publish.sandbox.demo import X_REPLIES
from publish.sandbox.server import BadRequest, Failure, Reply, Request, SandboxServer
from publish.sandbox.x_query import QueryError, compile_query

ME = {"id": "1000000000000000001", "username": "stadtwerke_elbtal", "name": "Stadtwerke Elbtal"}
FIRST_ID = 1900000000000000001
WINDOW = 15 * 60
PROBLEM = "application/problem+json"
PROBLEMS = "https://api.x.com/2/problems/"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
FREE_TIER = (
    "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints "
    "(e.g. media post, oauth) only. If you need access to this endpoint, you may need a "
    "different access level. You can learn more here: https://developer.x.com/en/portal/product"
)
MEDIA_CATEGORIES = {
    "tweet_image", "tweet_video", "tweet_gif", "dm_image", "dm_video", "dm_gif", "subtitles"
}
CREATE_FIELDS = {
    "card_uri", "community_id", "direct_share_deep_link", "edit_options",
    "for_super_followers_only", "geo", "made_with_ai", "media", "nullcast", "paid_partnership",
    "poll", "quote_tweet_id", "reply", "reply_settings", "share_with_followers", "text",
    "direct_message_deep_link",
}
# The post fields parameter X's documentation, tweepy and the live API use. The spec
# copy's name for it (``post.fields``) is taken without an error but, as on the live API,
# selects nothing: a client sending only that gets no created_at, no conversation_id.
POST_FIELD_PARAMS = ("tweet.fields",)
SPEC_FIELD_PARAM = "post.fields"
FIELD_PARAMS = {
    *POST_FIELD_PARAMS, SPEC_FIELD_PARAM, "user.fields", "media.fields", "poll.fields",
    "place.fields", "expansions",
}
# X's documented expansions for endpoints returning posts, and the spec copy's renames.
X_EXPANSIONS = {
    "author_id", "referenced_tweets.id", "referenced_tweets.id.author_id",
    "in_reply_to_user_id", "attachments.media_keys", "attachments.poll_ids", "geo.place_id",
    "entities.mentions.username", "edit_history_tweet_ids",
}
SPEC_EXPANSIONS = {
    "referenced_posts", "referenced_posts.id", "edit_history_post_ids", "username",
    "attachments.media_source_tweet", "article.cover_media", "article.media_entities",
}
USER_EXPANSIONS = {"pinned_tweet_id", "most_recent_tweet_id", "affiliation.user_id"}
GENERIC_INVALID = "One or more parameters to your request was invalid."
# How far back recent search reaches.
SEARCH_WINDOW = 7 * 24 * 3600
_TIMELINE_PARAMS = FIELD_PARAMS | {
    "max_results", "pagination_token", "start_time", "end_time", "since_id", "until_id",
    "exclude",
}
_SEARCH_PARAMS = FIELD_PARAMS | {
    "query", "max_results", "next_token", "pagination_token", "start_time", "end_time",
    "since_id", "until_id", "sort_order",
}
_DIGITS = re.compile(r"^\d{1,19}$")
_URL = re.compile(r"https?://\S+")
_OAUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _epoch(value: str, name: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not an ISO 8601 time") from None


def _token(last_id: str) -> str:
    return base64.b32hexencode(last_id.encode()).decode().rstrip("=").lower()


def _untoken(token: str) -> int:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        return int(base64.b32hexdecode(padded).decode())
    except ValueError:
        raise BadRequest(f"pagination token {token!r} is not valid") from None


def problem(status: int, kind: str, title: str, detail: str, **extra: Any) -> Reply:
    body = {"type": PROBLEMS + kind, "title": title, "detail": detail, "status": status, **extra}
    return Reply(status, body, content_type=PROBLEM)


def legacy_error(status: int, code: int, title: str, message: str) -> Reply:
    body = {"title": title, "detail": message, "status": status, "code": code, "message": message}
    return Reply(status, body)


def invalid(message: str, parameter: str | None = None, value: str | None = None) -> Reply:
    """X's 400: the generic ``detail`` on top, the reason in ``errors[].message``."""
    error: dict[str, Any] = {"message": message}
    if parameter:
        error["parameters"] = {parameter: [value or ""]}
    extra: dict[str, Any] = {"errors": [error]}
    if parameter:
        extra["parameter"] = parameter
    return problem(400, "invalid-request", "Invalid Request", GENERIC_INVALID, **extra)


class Invalid(BadRequest):
    """A parameter X refuses, with the parameter's name for ``errors[].parameters``."""

    def __init__(self, message: str, parameter: str, value: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


def escape(text: str) -> str:
    """Post text as X returns it: ``&``, ``<`` and ``>`` as HTML entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_LEADING_MENTIONS = re.compile(r"^(?:@(\w{1,15})\s+)+")


def _leading_handles(text: str) -> list[str]:
    match = _LEADING_MENTIONS.match(text)
    return re.findall(r"@(\w{1,15})", match.group(0)) if match else []


class TwitterSandbox(SandboxServer):
    """X API v2 on 127.0.0.1. Control endpoints (JSON, under ``/_sandbox/``):

    ``GET state``, ``GET requests`` (the journal), ``POST reset``, ``POST fail``,
    ``POST inject-comment`` ``{"in_reply_to"?, "author_handle", "author_name", "text",
    "created_at"?}`` (without ``in_reply_to``: a post that answers nothing),
    ``POST edit-comment`` ``{"id", "text"}``, ``POST hide-comment`` ``{"id", "hidden"?}``,
    ``POST delete-comment`` ``{"id"}``, ``POST revoke-token`` ``{"revoked"?}``,
    ``POST set-tier`` ``{"tier": "free"|"basic"|"pro"}``, ``POST set-created-at``
    ``{"id", "created_at"}`` (age a post, to test the seven-day search window).

    Search understands the query language of :mod:`publish.sandbox.x_query`.
    ``demo_comments``: our first top-level post gets the replies of
    :data:`publish.sandbox.demo.X_REPLIES`, a few minutes after it.
    """

    network = "twitter"
    error_kinds = ("server", "rate_limit", "auth", "duplicate", "read_forbidden", "invalid")

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        consumer_key: str = "sandbox-consumer-key",
        page_size: int = 2,
        rate_limit: int = 300,
        demo_comments: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(host, port)
        self.clock = clock  # X's clock: post times and the search window (epoch seconds)
        self.consumer_key = consumer_key
        self.page_size = page_size
        self.rate_limit = rate_limit
        self.demo_comments = demo_comments
        self.controls.update(
            {
                "inject-comment": self.inject_comment,
                "edit-comment": self._edit_comment,
                "hide-comment": self._hide_comment,
                "delete-comment": self._delete_comment,
                "revoke-token": self._revoke_token,
                "set-tier": self._set_tier,
                "set-created-at": self._set_created_at,
            }
        )
        self._clear()

    def _clear(self) -> None:
        self.next_id = FIRST_ID
        self.users: dict[str, dict[str, str]] = {ME["id"]: dict(ME)}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.deleted: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.tier = "basic"
        self.revoked = False
        self.windows: dict[str, dict[str, float]] = {}
        self.demo_done = False

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self._clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "me": self.users[ME["id"]],
            "tier": self.tier,
            "token_revoked": self.revoked,
            "next_id": self.next_id,
            "users": list(self.users.values()),
            "tweets": sorted(self.tweets.values(), key=lambda t: int(t["id"])),
            "deleted": self.deleted,
            "media": sorted(self.media.values(), key=lambda m: int(m["id"])),
            "demo_comments_done": self.demo_done,
        }

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._clear()
            self.tier = data.get("tier", "basic")
            self.revoked = bool(data.get("token_revoked", False))
            self.next_id = int(data.get("next_id", FIRST_ID))
            self.users.update({u["id"]: u for u in data.get("users", [])})
            self.tweets = {t["id"]: t for t in data.get("tweets", [])}
            self.deleted = list(data.get("deleted", []))
            self.media = {m["id"]: m for m in data.get("media", [])}
            self.demo_done = bool(data.get("demo_comments_done", bool(self.tweets)))

    # --- the API -------------------------------------------------------------------------

    def api(self, request: Request, failure: Failure | None) -> Reply:
        route = self._route(request.method, request.path)
        key = f"{request.method} {route[0] if route else request.path}"
        window = self._window(key)
        if failure is not None and failure.error:
            reply = self._scripted(failure, window)
        elif window["remaining"] <= 0:
            reply = legacy_error(429, 88, "Too Many Requests", "Too Many Requests")
        else:
            window["remaining"] -= 1
            reply = self._answer(request, route)
        reply.headers.update(
            {
                "x-rate-limit-limit": str(int(window["limit"])),
                "x-rate-limit-remaining": str(int(window["remaining"])),
                "x-rate-limit-reset": str(int(window["reset"])),
            }
        )
        return reply

    def _answer(self, request: Request, route: tuple[str, Any, dict[str, str]] | None) -> Reply:
        if route is None:
            return problem(
                404, "resource-not-found", "Not Found Error",
                f"The sandbox does not serve {request.method} {request.path}",
                resource_type="endpoint", value=request.path,
            )
        if not self._authorized(request):
            if self.revoked:
                return legacy_error(401, 89, "Unauthorized", "Invalid or expired token.")
            return legacy_error(401, 32, "Unauthorized", "Could not authenticate you.")
        _, handler, arguments = route
        try:
            reply: Reply = handler(request, **arguments)
        except Invalid as exc:
            return invalid(str(exc), exc.parameter, exc.value)
        except BadRequest as exc:
            return invalid(str(exc))
        return reply

    def _route(self, method: str, path: str) -> tuple[str, Any, dict[str, str]] | None:
        routes: list[tuple[str, str, re.Pattern[str], Any]] = [
            ("POST", "/2/tweets", re.compile(r"^/2/tweets$"), self._create),
            ("DELETE", "/2/tweets/{id}", re.compile(r"^/2/tweets/(?P<id>[^/]+)$"), self._delete),
            ("GET", "/2/users/me", re.compile(r"^/2/users/me$"), self._me),
            ("GET", "/2/users/{id}/tweets",
             re.compile(r"^/2/users/(?P<id>[^/]+)/tweets$"), self._timeline),
            ("GET", "/2/tweets/search/recent",
             re.compile(r"^/2/tweets/search/recent$"), self._search),
            ("POST", "/2/media/upload", re.compile(r"^/2/media/upload$"), self._upload),
            ("POST", "/2/media/metadata", re.compile(r"^/2/media/metadata$"), self._metadata),
        ]
        for route_method, template, pattern, handler in routes:
            match = pattern.match(path)
            if match and route_method == method:
                return template, handler, match.groupdict()
        return None

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if self.revoked or not header.startswith("OAuth "):
            return False
        params = {key: unquote(value) for key, value in _OAUTH_PARAM.findall(header)}
        return params.get("oauth_consumer_key") == self.consumer_key

    def _window(self, key: str) -> dict[str, float]:
        now = time.time()
        window = self.windows.get(key)
        if window is None or window["reset"] <= now:
            window = {"limit": self.rate_limit, "remaining": self.rate_limit, "reset": now + WINDOW}
            self.windows[key] = window
        return window

    def _scripted(self, failure: Failure, window: dict[str, float]) -> Reply:
        kind = failure.error
        if kind == "rate_limit":
            window["remaining"] = 0
            if failure.reset_at is not None:
                window["reset"] = failure.reset_at
            elif failure.reset_in is not None:
                window["reset"] = math.ceil(time.time() + failure.reset_in)
            message = failure.message or "Too Many Requests"
            return legacy_error(429, 88, "Too Many Requests", message)
        if kind == "auth":
            message = failure.message or "Invalid or expired token."
            return legacy_error(401, 89, "Unauthorized", message)
        if kind == "duplicate":
            return self._duplicate()
        if kind == "read_forbidden":
            return legacy_error(403, 453, "Forbidden", failure.message or FREE_TIER)
        if kind == "invalid":
            return invalid(failure.message or "One or more parameters to your request was invalid.")
        status = failure.status or 503
        return problem(
            status, "internal-error", "Service Unavailable" if status == 503 else "Internal Error",
            failure.message or "The service is temporarily unavailable; try again later.",
        )

    def server_error(self, status: int) -> Reply:
        return problem(
            status, "internal-error", "Service Unavailable" if status == 503 else "Internal Error",
            "The service is temporarily unavailable; try again later.",
        )

    def _duplicate(self) -> Reply:
        return problem(403, "disallowed-resource", "Forbidden", DUPLICATE, resource_type="tweet")

    def _new_id(self) -> str:
        new = str(self.next_id)
        self.next_id += 1
        return new

    def _create(self, request: Request) -> Reply:
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        unknown = set(body) - CREATE_FIELDS
        if unknown:
            return invalid(f"{sorted(unknown)[0]} is not a valid field of a post request")
        text = body.get("text", "")
        if not isinstance(text, str):
            return invalid("text must be a string", "text")
        media_ids = (body.get("media") or {}).get("media_ids", [])
        if not isinstance(media_ids, list) or len(media_ids) > 4:
            return invalid("media.media_ids takes 1 to 4 ids", "media.media_ids")
        if any(str(m) not in self.media for m in media_ids):
            return invalid("Your media IDs are invalid.", "media.media_ids")
        if not text.strip() and not media_ids:
            return invalid("Post text or media is required.", "text")
        if _weighted_length(text) > 280:
            return legacy_error(403, 186, "Forbidden", "Tweet needs to be a bit shorter.")
        parent_id = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        parent = self.tweets.get(str(parent_id)) if parent_id else None
        if parent_id and parent is None:
            return legacy_error(
                403, 385, "Forbidden",
                "You attempted to reply to a Tweet that is deleted or not visible to you.",
            )
        if parent is not None:
            text = self._mention_prefix(parent, text) + text
        if text.strip() and any(
            t["text"] == text and t["author_id"] == ME["id"] for t in self.tweets.values()
        ):
            return self._duplicate()
        tweet = self._store_tweet(ME["id"], text, parent, self.clock())
        tweet["media_ids"] = [str(m) for m in media_ids]
        if parent is None and self.demo_comments and not self.demo_done:
            self._inject_demo(tweet)
        return Reply(
            201,
            {"data": {"id": tweet["id"], "text": escape(text),
                      "edit_history_tweet_ids": [tweet["id"]]}},
        )

    def _mention_prefix(self, parent: dict[str, Any], text: str) -> str:
        """What X puts before a reply's text: ``@author`` of what it answers and the
        handles leading that post, in order, once each, never our own."""
        handles = [self._handle(parent["author_id"]) or "", *_leading_handles(parent["text"])]
        # handles the text already leads with are not added again
        seen: list[str] = _leading_handles(text)
        for handle in handles:
            if handle and handle.lower() != ME["username"].lower() and handle not in seen:
                seen.append(handle)
        given = len(_leading_handles(text))
        return "".join(f"@{handle} " for handle in seen[given:])

    def _store_tweet(
        self, author_id: str, text: str, parent: dict[str, Any] | None, created: float
    ) -> dict[str, Any]:
        tweet_id = self._new_id()
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "author_id": author_id,
            "created_at": _iso(created),
            "conversation_id": parent["conversation_id"] if parent else tweet_id,
            "in_reply_to": parent["id"] if parent else None,
            "media_ids": [],
            "hidden": False,
        }
        self.tweets[tweet_id] = tweet
        return tweet

    def _delete(self, request: Request, id: str) -> Reply:
        if not _DIGITS.match(id):
            return invalid(f"The `id` query parameter value [{id}] is not valid", "id")
        tweet = self.tweets.get(id)
        if tweet is None:
            return problem(
                404, "resource-not-found", "Not Found Error",
                f"Could not find tweet with id: [{id}].",
                resource_type="tweet", resource_id=id, parameter="id", value=id,
            )
        if tweet["author_id"] != ME["id"]:
            return problem(
                403, "disallowed-resource", "Forbidden",
                "You are not allowed to delete a Tweet that is not yours.",
                resource_type="tweet", resource_id=id,
            )
        self.deleted.append(self.tweets.pop(id))
        return Reply(200, {"data": {"deleted": True}})

    def _me(self, request: Request) -> Reply:
        self._check_params(request, FIELD_PARAMS)
        self._expansions(request, USER_EXPANSIONS)
        return Reply(200, {"data": dict(self.users[ME["id"]])})

    def _read_refused(self) -> Reply | None:
        if self.tier == "free":
            return legacy_error(403, 453, "Forbidden", FREE_TIER)
        return None

    def _timeline(self, request: Request, id: str) -> Reply:
        refused = self._read_refused()
        if refused:
            return refused
        self._check_params(request, _TIMELINE_PARAMS)
        self._expansions(request, X_EXPANSIONS | SPEC_EXPANSIONS)
        limit = self._max_results(request, 5, 100, 10)
        tweets = [t for t in self.tweets.values() if t["author_id"] == id]
        if "start_time" in request.query:
            start = _epoch(request.query["start_time"], "start_time")
            tweets = [t for t in tweets if _epoch(t["created_at"], "created_at") >= start]
        return self._page(request, self._since(request, tweets), limit, "pagination_token")

    def _search(self, request: Request) -> Reply:
        refused = self._read_refused()
        if refused:
            return refused
        self._check_params(request, _SEARCH_PARAMS)
        self._expansions(request, X_EXPANSIONS | SPEC_EXPANSIONS)
        oldest = self.clock() - SEARCH_WINDOW
        self._check_since_in_window(request, oldest)
        try:
            matches = compile_query(request.query.get("query", ""), self._handle)
        except QueryError as exc:
            return invalid(f"Invalid query: {exc}", "query")
        limit = self._max_results(request, 10, 100, 10)
        tweets = [
            t for t in self.tweets.values()
            if matches(t) and _epoch(t["created_at"], "created_at") >= oldest
        ]
        return self._page(request, self._since(request, tweets), limit, "next_token")

    def _check_since_in_window(self, request: Request, oldest: float) -> None:
        """X refuses a ``since_id`` older than the search window; its id tells its age
        (X's ids are snowflakes): here, the newest post we know with an id up to it."""
        since = request.query.get("since_id")
        if not since or not _DIGITS.match(since):
            return
        known = [
            t for t in [*self.tweets.values(), *self.deleted] if int(t["id"]) <= int(since)
        ]
        if not known:
            return
        newest = max(known, key=lambda t: int(t["id"]))
        if _epoch(newest["created_at"], "created_at") < oldest:
            raise Invalid(
                f"Invalid 'since_id':'{since}'. 'since_id' must be a tweet id created after "
                f"{_iso(oldest)}.",
                "since_id", since,
            )

    def _since(self, request: Request, tweets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        since = request.query.get("since_id")
        if not since:
            return tweets
        if not _DIGITS.match(since):
            raise BadRequest(f"The `since_id` query parameter value [{since}] is not valid")
        return [t for t in tweets if int(t["id"]) > int(since)]

    def _handle(self, user_id: str) -> str | None:
        user = self.users.get(user_id)
        return user["username"] if user else None

    def _check_params(self, request: Request, allowed: set[str]) -> None:
        """Unknown parameters are refused, except ``*.fields`` ones, which X ignores."""
        for name in request.query:
            if name not in allowed and not name.endswith(".fields"):
                raise Invalid(
                    f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]",
                    name, request.query[name],
                )

    def _expansions(self, request: Request, allowed: set[str]) -> None:
        for value in filter(None, request.query.get("expansions", "").split(",")):
            if value not in allowed:
                raise Invalid(
                    f"The `expansions` query parameter value [{value}] is not one of "
                    f"[{','.join(sorted(allowed))}]",
                    "expansions", value,
                )

    def _max_results(self, request: Request, low: int, high: int, default: int) -> int:
        raw = request.query.get("max_results", str(default))
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise BadRequest(
                f"The `max_results` query parameter value [{raw}] is not between {low} and {high}"
            )
        return min(int(raw), self.page_size)

    def _page(
        self, request: Request, tweets: list[dict[str, Any]], limit: int, token_name: str
    ) -> Reply:
        tweets = sorted(tweets, key=lambda t: int(t["id"]), reverse=True)
        token = request.query.get(token_name) or request.query.get("pagination_token")
        if token:
            before = _untoken(token)
            tweets = [t for t in tweets if int(t["id"]) < before]
        page, rest = tweets[:limit], tweets[limit:]
        fields: set[str] = set()
        for name in POST_FIELD_PARAMS:
            fields |= set(filter(None, request.query.get(name, "").split(",")))
        expansions = set(filter(None, request.query.get("expansions", "").split(",")))
        spec = SPEC_FIELD_PARAM in request.query or bool(expansions & SPEC_EXPANSIONS)
        meta: dict[str, Any] = {"result_count": len(page)}
        body: dict[str, Any] = {}
        if page:
            body["data"] = [self._render(t, fields, expansions, spec) for t in page]
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
            includes = self._includes(page, expansions, spec)
            if includes:
                body["includes"] = includes
        if page and rest:
            meta["next_token"] = _token(page[-1]["id"])
        body["meta"] = meta
        return Reply(200, body)

    def _render(
        self, tweet: dict[str, Any], fields: set[str], expansions: set[str], spec: bool
    ) -> dict[str, Any]:
        """One post as X renders it: ``id``, ``text`` (escaped) and the edit history by
        default, other fields only when asked for (an expansion adds its field)."""
        kind = "post" if spec else "tweet"
        out: dict[str, Any] = {
            "id": tweet["id"],
            "text": escape(tweet["text"]),
            f"edit_history_{kind}_ids": [tweet["id"]],
        }
        for name in ("created_at", "conversation_id"):
            if name in fields:
                out[name] = tweet[name]
        if "entities" in fields:
            urls = [
                {"start": m.start(), "end": m.end(), "url": m.group(0),
                 "expanded_url": m.group(0), "display_url": m.group(0).split("://", 1)[-1]}
                for m in _URL.finditer(tweet["text"])
            ]
            if urls:
                out["entities"] = {"urls": urls}
        if "author_id" in expansions or "author_id" in fields:
            out["author_id"] = tweet["author_id"]
        if tweet["in_reply_to"]:
            parent = self.tweets.get(tweet["in_reply_to"])
            wanted = {"referenced_tweets", "referenced_posts"} & fields or {
                "referenced_tweets.id", "referenced_posts", "referenced_posts.id",
                "referenced_tweets.id.author_id",
            } & expansions
            if wanted:
                out[f"referenced_{kind}s"] = [{"type": "replied_to", "id": tweet["in_reply_to"]}]
            if {"in_reply_to_user_id"} & (expansions | fields) and parent:
                out["in_reply_to_user_id"] = parent["author_id"]
        if tweet["media_ids"] and "attachments.media_keys" in expansions:
            out["attachments"] = {"media_keys": [f"3_{m}" for m in tweet["media_ids"]]}
        return out

    def _includes(
        self, page: list[dict[str, Any]], expansions: set[str], spec: bool
    ) -> dict[str, Any]:
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            authors = {t["author_id"] for t in page}
            includes["users"] = [dict(self.users[a]) for a in sorted(authors) if a in self.users]
        if expansions & {"referenced_posts", "referenced_posts.id", "referenced_tweets.id"}:
            referenced = {t["in_reply_to"] for t in page if t["in_reply_to"]}
            posts = [
                self._render(self.tweets[r], set(), set(), spec)
                for r in sorted(referenced) if r in self.tweets
            ]
            if posts:
                includes["posts" if spec else "tweets"] = posts
        return includes

    def _upload(self, request: Request) -> Reply:
        if request.content_type == "application/json":
            body = request.json()
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
            try:
                content = base64.b64decode(str(body.get("media", "")), validate=True)
            except ValueError:
                return invalid("media must be base64 in a JSON body", "media")
            category = body.get("media_category")
            mime = "application/octet-stream"
        else:
            upload = request.files.get("media")
            content = upload.content if upload else b""
            category = request.form.get("media_category")
            mime = upload.content_type if upload else "application/octet-stream"
        if category not in MEDIA_CATEGORIES:
            return invalid(f"media_category must be one of {sorted(MEDIA_CATEGORIES)}",
                           "media_category")
        if not content:
            return invalid("media is required", "media")
        media_id = self._new_id()
        self.media[media_id] = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "media_category": category,
            "content_type": mime,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "alt_text": None,
        }
        data: dict[str, Any] = {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": len(content),
            "expires_after_secs": 86400,
        }
        if mime.startswith("image/"):
            data["image"] = {"image_type": mime}
        return Reply(200, {"data": data})

    def _metadata(self, request: Request) -> Reply:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return invalid("id (the media id) is required", "id")
        media = self.media.get(body["id"])
        if media is None:
            return problem(
                404, "resource-not-found", "Not Found Error",
                f"Could not find media with id: [{body['id']}].",
                resource_type="media", resource_id=body["id"],
            )
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if alt is not None:
            if not isinstance(alt, str) or len(alt) > 1000:
                return invalid("metadata.alt_text.text must be at most 1000 characters")
            media["alt_text"] = alt
        associated = {"alt_text": {"text": alt}} if alt is not None else {}
        return Reply(200, {"data": {"id": media["id"], "associated_metadata": associated}})

    # --- control -------------------------------------------------------------------------

    def inject_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A reply by someone else, as if posted on X (for tests and demos); without
        ``in_reply_to`` a post of their own that answers nothing (a mention to search)."""
        parent = None
        if payload.get("in_reply_to") is not None:
            parent = self.tweets.get(str(payload["in_reply_to"]))
            if parent is None:
                raise BadRequest(f"no tweet {payload['in_reply_to']} to reply to")
        handle = str(payload.get("author_handle") or "anwohnerin_elbtal")
        user = self._user(handle, str(payload.get("author_name") or handle))
        created = payload.get("created_at")
        moment = _epoch(created, "created_at") if created else self.clock()
        tweet = self._store_tweet(user["id"], str(payload["text"]), parent, moment)
        return dict(tweet)

    def _user(self, handle: str, name: str) -> dict[str, str]:
        user = next((u for u in self.users.values() if u["username"] == handle), None)
        if user is None:
            user = {"id": self._new_id(), "username": handle, "name": name}
            self.users[user["id"]] = user
        return user

    def _inject_demo(self, post: dict[str, Any]) -> None:
        """The demo's replies under our first post (``demo_comments``), once per state."""
        self.demo_done = True
        posted = _epoch(post["created_at"], "created_at")
        stored: list[dict[str, Any]] = []
        for reply in X_REPLIES:
            parent = post if reply.answers is None else stored[reply.answers]
            user = self._user(reply.handle, reply.name)
            stored.append(
                self._store_tweet(user["id"], reply.text, parent, posted + 60 * reply.minutes)
            )

    def _existing(self, payload: dict[str, Any]) -> dict[str, Any]:
        tweet = self.tweets.get(str(payload["id"]))
        if tweet is None:
            raise BadRequest(f"no tweet {payload['id']}")
        return tweet

    def _edit_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        tweet = self._existing(payload)
        tweet["text"] = str(payload["text"])
        return dict(tweet)

    def _hide_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Marks the reply hidden in the state only: like X, the API answers stay the
        same (v2 has no post field for it, and search keeps returning hidden replies)."""
        tweet = self._existing(payload)
        tweet["hidden"] = bool(payload.get("hidden", True))
        return dict(tweet)

    def _delete_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        tweet = self._existing(payload)
        self.deleted.append(self.tweets.pop(tweet["id"]))
        return {"deleted": tweet["id"]}

    def _revoke_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.revoked = bool(payload.get("revoked", True))
        return {"token_revoked": self.revoked}

    def _set_created_at(self, payload: dict[str, Any]) -> dict[str, Any]:
        tweet = self._existing(payload)
        tweet["created_at"] = _iso(_epoch(str(payload["created_at"]), "created_at"))
        return dict(tweet)

    def _set_tier(self, payload: dict[str, Any]) -> dict[str, Any]:
        tier = payload.get("tier")
        if tier not in ("free", "basic", "pro"):
            raise BadRequest("tier must be free, basic or pro")
        self.tier = str(tier)
        return {"tier": self.tier}


def _weighted_length(text: str) -> int:
    """X's weighted length (URLs count 23, CJK and emoji 2), as twitter-text counts it."""
    from editorial.length import load_twitter_text

    load_twitter_text()
    from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)
