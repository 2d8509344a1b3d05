"""X (Twitter) over API v2 with tweepy's ``Client`` in OAuth 1.0a user context.

Every call goes through :meth:`TwitterChannel._request`: endpoints tweepy wraps through
``tweepy.Client``'s own methods (``create_tweet``, ``delete_tweet``, ``get_me``,
``get_users_tweets``, ``search_recent_tweets``), since tweepy tracks the live API's
parameter names; the v2 media endpoints, which tweepy 4.17 does not wrap, through
``Client.request`` and the same client's session with the same OAuth 1.0a signer. That
one method short-circuits mutating calls in a dry run and maps X's failures to channel
errors, with the reason X gives in ``errors[].message``.

Parameter names are those of X's documentation (``tweet.fields``,
``expansions=referenced_tweets.id``); the OpenAPI copy in ``../shared/x-api/`` renames
some (``post.fields``, ``referenced_posts``), which the live API ignores or refuses, so it
serves as a schema of bodies only. Responses are read tolerantly (``referenced_posts``
is understood too). See ``docs/networks.md``.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import mimetypes
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
import tweepy

from publish.posting.channels.base import (
    DRY_RUN_MARK,
    Channel,
    Clock,
    CommentPage,
    Health,
    MediaFile,
    Message,
    RemoteComment,
    RemotePost,
    comparable_text,
    made_up_in_dry_run,
    utc_now,
)
from publish.posting.channels.credentials import TwitterCredentials, mask_secrets
from publish.posting.channels.errors import (
    AuthExpired,
    BudgetSpent,
    ChannelError,
    DuplicateContent,
    RateLimited,
    ReadNotAvailable,
    Rejected,
    TransientError,
)
from publish.posting.channels.transport import BaseURLAdapter, network_failure

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twitter.com"
# The host tweepy.Client.request has written into it.
TWEEPY_HOST = "https://api.twitter.com"

# What we read of a post (X's documented ``tweet.fields`` values) and the expansions.
TWEET_FIELDS = ["created_at", "conversation_id", "author_id", "referenced_tweets", "entities"]
SEARCH_EXPANSIONS = ["author_id", "referenced_tweets.id"]
TIMELINE_EXPANSIONS = ["referenced_tweets.id"]
USER_FIELDS = ["username", "name"]
MAX_MEDIA = 4
MAX_ALT_TEXT = 1000
# Within both the search endpoint's bounds (10..100) and the timeline's (5..100).
PAGE_SIZE = 100
_IMAGE_CATEGORIES = {
    ".jpg": "tweet_image",
    ".jpeg": "tweet_image",
    ".png": "tweet_image",
    ".webp": "tweet_image",
    ".gif": "tweet_gif",
}
# Without x-rate-limit-reset X gives no hint; its windows are 15 minutes.
_DEFAULT_RATE_WINDOW = timedelta(minutes=15)
_READ_ROUTES = ("/2/tweets/search/recent", "/2/users/")


class TwitterChannel(Channel):
    """Posts, threads, replies, deletes, reads replies and searches mentions on X.

    ``client`` may be passed in (tests, or a caller sharing a session); either way the
    channel mounts its base-URL adapter on the client's session and switches tweepy's
    rate-limit sleeping off: a scheduler must get :class:`RateLimited` and move on, not
    block for fifteen minutes inside a library.
    """

    name = "twitter"

    def __init__(
        self,
        credentials: TwitterCredentials,
        *,
        api_base: str = DEFAULT_API_BASE,
        web_base: str = "https://x.com",
        timeout: float = 30.0,
        dry_run: bool = False,
        clock: Clock = utc_now,
        client: tweepy.Client | None = None,
    ) -> None:
        super().__init__(dry_run=dry_run, clock=clock)
        self.request_timeout = timeout
        self.api_base = api_base.rstrip("/")
        self.web_base = web_base.rstrip("/")
        self._client = client or tweepy.Client(
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
        )
        self._client.wait_on_rate_limit = False
        # the raw answer: errors are read from its body, and the JSON as X sent it
        self._client.return_type = requests.Response
        self._client.session.mount(
            TWEEPY_HOST + "/", BaseURLAdapter(TWEEPY_HOST, self.api_base, timeout)
        )
        self._me: dict[str, Any] | None = None
        self._dry_ids = itertools.count(1)
        # what a caller should tell the operator about reads (a cursor restarted)
        self.notes: list[str] = []

    # --- the interface ---------------------------------------------------------------

    def post(self, message: Message) -> RemotePost:
        text = message.text_with_link()
        if len(message.media) > MAX_MEDIA:
            raise Rejected(f"X takes at most {MAX_MEDIA} images per post, not {len(message.media)}")
        if not text.strip() and not message.media:
            raise Rejected("nothing to post: the text is empty and there are no images")
        media_ids = [self._upload(media) for media in message.media]
        body: dict[str, Any] = {"text": text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if message.reply_to:
            body["reply"] = {"in_reply_to_tweet_id": message.reply_to}
        data = self._request(
            "POST",
            "/2/tweets",
            lambda: self._client.create_tweet(
                text=text,
                media_ids=media_ids or None,
                in_reply_to_tweet_id=message.reply_to,
                user_auth=True,
            ),
            json=body,
        )["data"]
        if not self.dry_run:
            logger.info("X post %s created", data["id"])
        return RemotePost(
            remote_id=str(data["id"]),
            url=self._post_url(str(data["id"])),
            created_at=None,
            text=_plain(data.get("text", text)),
        )

    def reply(self, remote_id: str, text: str) -> RemotePost:
        return self.post(Message(text=text, reply_to=remote_id))

    def delete(self, remote_id: str) -> None:
        answer = self._request(
            "DELETE",
            f"/2/tweets/{quote(remote_id, safe='')}",
            lambda: self._client.delete_tweet(remote_id, user_auth=True),
            missing_ok=True,
        )
        if self.dry_run:
            return
        if not answer.get("data", {}).get("deleted", False):
            logger.info("X post %s was already gone", remote_id)
        else:
            logger.info("X post %s deleted", remote_id)

    def recent_posts(self, since: datetime) -> list[RemotePost]:
        me = self._whoami()
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "start_time": _x_time(since),
            "tweet_fields": TWEET_FIELDS,
            "expansions": TIMELINE_EXPANSIONS,
        }
        return [self._remote(item, me) for item in self._timeline(me["id"], params)]

    def _remote(self, item: dict[str, Any], me: dict[str, Any]) -> RemotePost:
        urls = (item.get("entities") or {}).get("urls")
        return RemotePost(
            remote_id=str(item["id"]),
            url=self._post_url(str(item["id"]), me.get("username")),
            created_at=_parse_time(item.get("created_at")),
            text=_plain(item.get("text")),
            reply_to=_replied_to(item),
            links=(
                tuple(str(u.get("expanded_url") or u.get("url")) for u in urls)
                if isinstance(urls, list) else None
            ),
        )

    def find_reply(self, parent_id: str, text: str) -> RemotePost | None:
        """Looks through our timeline since ``parent_id`` (X ids grow with time, so our
        reply is newer than what it answers), newest first, and stops at the first match."""
        if made_up_in_dry_run(parent_id):
            return None
        me = self._whoami()
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "since_id": parent_id,
            "tweet_fields": TWEET_FIELDS,
            "expansions": TIMELINE_EXPANSIONS,
        }
        wanted = comparable_text(text)
        for item in self._timeline(me["id"], params):
            if _replied_to(item) == parent_id and comparable_text(item.get("text")) == wanted:
                return self._remote(item, me)
        return None

    def fetch_comments(self, post_id: str, cursor: str | None) -> CommentPage:
        """Every reply by others in the conversation of ``post_id`` (replies to replies
        too, ``parent_id`` says to what) newer than ``cursor``, oldest first.

        ``cursor`` is the newest reply id seen (X's ``since_id``); the page's cursor is the
        newest id in the answer. X's recent search covers the last seven days only: a full
        re-read (``cursor=None``) of an older post no longer shows its replies, so a
        missing reply means deleted only while the post is younger than that.

        ``hidden`` is always False: X v2 has no post field for a hidden reply (hiding is
        the write-only ``PUT /2/tweets/{id}/hidden``) and search keeps returning hidden
        replies; the sandbox does the same.
        """
        me = self._whoami()
        items, users, reset = self._search(f"conversation_id:{post_id}", cursor)
        comments = [
            self._comment(item, users, post_id, _replied_to(item) or post_id)
            for item in items
            if str(item.get("author_id")) != str(me["id"]) and str(item["id"]) != post_id
        ]
        return _page(comments, items, cursor, reset)

    def search_mentions(self, query: str, since_id: str | None) -> CommentPage:
        """Posts by others matching ``query`` (brand monitoring), newer than ``since_id``,
        oldest first, every page of them.

        ``query`` is X search syntax: words (all must match), ``"exact phrases"``, ``OR``,
        ``from:``/``-from:handle``, parentheses. Our own posts and retweets are left out.
        A found post's ``post_id`` is its conversation (the post it hangs under, or its own
        id when it starts one) and ``parent_id`` what it answers (its own id when it
        answers nothing). The cursor is the newest id seen; X refuses a ``since_id``
        older than its seven-day search window.
        """
        me = self._whoami()
        items, users, reset = self._search(
            f"({query}) -from:{me['username']} -is:retweet", since_id
        )
        comments = []
        for item in items:
            if str(item.get("author_id")) == str(me["id"]):
                continue
            own_id = str(item["id"])
            comments.append(
                self._comment(
                    item, users, str(item.get("conversation_id") or own_id),
                    _replied_to(item) or own_id,
                )
            )
        return _page(comments, items, since_id, reset)

    def health(self) -> Health:
        try:
            self._me = None
            me = self._whoami()
        except ChannelError as exc:
            return Health(ok=False, expires_at=None, message=str(exc))
        # OAuth 1.0a user tokens do not expire; they stop working when revoked.
        return Health(ok=True, expires_at=None, message=f"authenticated as @{me.get('username')}")

    # --- helpers ---------------------------------------------------------------------

    def _whoami(self) -> dict[str, Any]:
        if self._me is None:
            self._me = self._request(
                "GET", "/2/users/me", lambda: self._client.get_me(user_auth=True)
            )["data"]
        return self._me

    def _timeline(self, user_id: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Our posts (``GET /2/users/:id/tweets``), every page, newest first."""
        return self._pages(
            f"/2/users/{user_id}/tweets",
            lambda page: self._client.get_users_tweets(user_id, user_auth=True, **page),
            params,
            "pagination_token",
        )

    def _pages(
        self,
        route: str,
        fetch: Callable[[dict[str, Any]], Any],
        params: dict[str, Any],
        token_name: str,
        users: dict[str, dict[str, Any]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The items of every page, fetched as they are consumed (a search can stop early);
        ``fetch`` is the tweepy method with the page's keyword arguments bound; ``users``
        collects the ``includes.users`` of the pages read so far."""
        params = dict(params)
        while True:
            page = self._request("GET", route, lambda: fetch(params))
            if users is not None:
                for user in page.get("includes", {}).get("users", []):
                    users[str(user["id"])] = user
            yield from page.get("data", [])
            token = page.get("meta", {}).get("next_token")
            if not token:
                return
            params[token_name] = token

    def _search(
        self, query: str, since_id: str | None
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], bool]:
        """Every post matching ``query`` newer than ``since_id``, oldest first, with their
        authors (comment sync and mention search read the same fields), and whether
        ``since_id`` was too old for recent search, so the search began at its window's
        start instead."""
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "tweet_fields": TWEET_FIELDS,
            "expansions": SEARCH_EXPANSIONS,
            "user_fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        users: dict[str, dict[str, Any]] = {}
        try:
            items = self._search_pages(query, params, users)
        except Rejected as exc:
            if not since_id or "since_id" not in str(exc):
                raise
            # the cursor is older than recent search reaches: start at the window's start
            logger.warning(
                "X search %r: cursor %s is older than recent search's seven days; "
                "reading from the window's start (older replies cannot be read on this tier)",
                query, since_id,
            )
            self.notes.append(
                f"a cursor older than X's seven-day search window was restarted at the "
                f"window's start; replies older than that cannot be read on this tier ({query})"
            )
            del params["since_id"]
            items = [
                item for item in self._search_pages(query, params, users)
                if int(item["id"]) > int(since_id)
            ]
            items.sort(key=lambda item: int(item["id"]))
            return items, users, True
        items.sort(key=lambda item: int(item["id"]))
        return items, users, False

    def _search_pages(
        self, query: str, params: dict[str, Any], users: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return list(
            self._pages(
                "/2/tweets/search/recent",
                lambda page: self._client.search_recent_tweets(query, user_auth=True, **page),
                params,
                "next_token",
                users,
            )
        )

    def _comment(
        self, item: dict[str, Any], users: dict[str, dict[str, Any]], post_id: str, parent_id: str
    ) -> RemoteComment:
        author = users.get(str(item.get("author_id")), {})
        handle = author.get("username")
        return RemoteComment(
            remote_id=str(item["id"]),
            parent_id=parent_id,
            post_id=post_id,
            author_handle=handle,
            author_name=author.get("name"),
            text=_plain(item.get("text")) or "",
            created_at=_parse_time(item.get("created_at")) or self.clock(),
            permalink=self._post_url(str(item["id"]), handle),
        )

    def _upload(self, media: MediaFile) -> str:
        category = _IMAGE_CATEGORIES.get(media.path.suffix.lower())
        if category is None:
            raise Rejected(
                f"{media.path}: X media must be an image ({', '.join(sorted(_IMAGE_CATEGORIES))})"
            )
        if len(media.alt) > MAX_ALT_TEXT:
            raise Rejected(f"{media.path}: alt text longer than {MAX_ALT_TEXT} characters")
        try:
            content = media.path.read_bytes()
        except OSError as exc:
            raise Rejected(f"cannot read media file {media.path}: {exc.strerror}") from None
        mime = mimetypes.guess_type(media.path.name)[0] or "application/octet-stream"
        answer = self._request(
            "POST",
            "/2/media/upload",
            None,
            data={"media_category": category},
            files={"media": (media.path.name, content, mime)},
        )
        media_id = str(answer["data"]["id"])
        if media.alt.strip():
            body = {"id": media_id, "metadata": {"alt_text": {"text": media.alt}}}
            self._request(
                "POST",
                "/2/media/metadata",
                # tweepy does not wrap the v2 media endpoints
                lambda: self._client.request("POST", "/2/media/metadata", json=body,
                                             user_auth=True),
                json=body,
            )
        return media_id

    def _post_url(self, remote_id: str, username: str | None = None) -> str:
        return f"{self.web_base}/{username or 'i/web'}/status/{remote_id}"

    def _request(
        self,
        method: str,
        route: str,
        call: Callable[[], Any] | None,
        *,
        json: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        """The one door to X: ``call`` is the tweepy call to make (None: the multipart
        upload in ``files``); ``json`` is the body it sends, for the dry run's log.
        Mutating calls in a dry run stop here, logged."""
        mutating = method != "GET"
        if mutating and self.dry_run:
            logger.info(
                "dry run: would %s %s%s %s", method, self.api_base, route,
                _describe(json, data, files),
            )
            return self._synthetic(method, route, json)
        if not mutating:
            if self.read_budget is not None and self.reads >= self.read_budget:
                raise BudgetSpent(f"X {method} {route}: this run's read budget is used up")
            self.reads += 1
        try:
            if call is not None:
                response = call()
            else:
                response = self._client.session.request(
                    method,
                    TWEEPY_HOST + route,
                    data=data,
                    files=files,
                    headers={"User-Agent": self._client.user_agent},
                    auth=tweepy.OAuth1UserHandler(
                        self._client.consumer_key,
                        self._client.consumer_secret,
                        self._client.access_token,
                        self._client.access_token_secret,
                    ).apply_auth(),
                )
                if not 200 <= response.status_code < 300:
                    raise tweepy.HTTPException(response)
        except tweepy.HTTPException as exc:
            if missing_ok and exc.response.status_code == 404:
                return {}
            raise self._error(exc.response, method, route) from None
        except requests.RequestException as exc:
            raise network_failure(exc, "X", method, route) from None
        if not response.content:
            return {}
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise TransientError(f"X {method} {route}: answer is not JSON") from None
        return answer

    def _error(self, response: requests.Response, method: str, route: str) -> ChannelError:
        status = response.status_code
        detail = _detail(response)
        where = f"X {method} {route}"
        if status == 401:
            return AuthExpired(
                f"{where}: X refused the credentials (401 {detail}); renew "
                "DP_TWITTER_ACCESS_TOKEN and DP_TWITTER_ACCESS_TOKEN_SECRET (or the consumer "
                "keys DP_TWITTER_CONSUMER_KEY/_SECRET if the app's keys were regenerated)"
            )
        if status == 429:
            reset = response.headers.get("x-rate-limit-reset", "")
            until = (
                datetime.fromtimestamp(int(reset), UTC)
                if reset.isdigit()
                else self.clock() + _DEFAULT_RATE_WINDOW
            )
            return RateLimited(until, f"{where}: rate limited until {until.isoformat()}")
        if status >= 500:
            # X can answer 5xx for a post it did create: a write is in doubt, looked up
            # before it is sent again
            return TransientError(
                f"{where}: X answered {status} {detail}", maybe_delivered=method != "GET"
            )
        if status == 403 and "duplicate content" in detail.lower():
            return DuplicateContent(f"{where}: {detail}")
        if status == 403 and method == "GET" and route.startswith(_READ_ROUTES):
            return ReadNotAvailable(
                f"{where}: the X API access level of this app does not allow reading "
                f"(the free tier can post but not read replies): {detail}"
            )
        return Rejected(f"{where}: X refused the request ({status}): {detail}")

    def _synthetic(self, method: str, route: str, body: dict[str, Any] | None) -> dict[str, Any]:
        if method == "DELETE":
            return {"data": {"deleted": True}}
        if route == "/2/media/metadata":
            return {"data": {"id": (body or {}).get("id", "")}}
        fake_id = f"{DRY_RUN_MARK}{next(self._dry_ids)}"
        if route == "/2/media/upload":
            return {"data": {"id": fake_id}}
        return {"data": {"id": fake_id, "text": (body or {}).get("text", "")}}


def _describe(
    body: dict[str, Any] | None,
    data: dict[str, str] | None,
    files: dict[str, tuple[str, bytes, str]] | None,
) -> str:
    if files is not None:
        summary: dict[str, Any] = dict(data or {})
        for field, (filename, content, mime) in files.items():
            summary[field] = f"{filename} ({mime}, {len(content)} bytes)"
        return json.dumps(summary, ensure_ascii=False)
    return json.dumps(body, ensure_ascii=False) if body is not None else ""


def _detail(response: requests.Response) -> str:
    """X's reason for a refusal: ``errors[].message`` when there are any (for a 400 the
    top-level ``detail`` only says "One or more parameters to your request was
    invalid."), else ``detail``, ``message`` or ``title``."""
    try:
        body = response.json()
    except ValueError:
        return mask_secrets(response.text[:200].strip()) or response.reason or ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list):
        reasons = [
            str(error.get("message") or error.get("detail"))
            for error in errors
            if isinstance(error, dict) and (error.get("message") or error.get("detail"))
        ]
        if reasons:
            return mask_secrets("; ".join(dict.fromkeys(reasons)))
    for key in ("detail", "message", "title"):
        if isinstance(body.get(key), str):
            return mask_secrets(str(body[key]))
    return response.reason or ""


def _plain(text: str | None) -> str | None:
    """Post text as written: X returns ``&``, ``<`` and ``>`` as HTML entities."""
    return html.unescape(text) if text is not None else None


def _replied_to(item: dict[str, Any]) -> str | None:
    for key in ("referenced_posts", "referenced_tweets"):
        for reference in item.get(key) or []:
            if reference.get("type") == "replied_to":
                return str(reference["id"])
    return None


def _page(
    comments: list[RemoteComment], items: list[dict[str, Any]], cursor: str | None, reset: bool
) -> CommentPage:
    """The page with its next cursor: the newest id seen, else the old cursor, unless
    that was too old to use (then None: read from the window's start next time)."""
    newest = _newest(items)
    if reset:
        return CommentPage(comments=comments, cursor=newest, reset=True)
    return CommentPage(comments=comments, cursor=newest or cursor)


def _newest(items: list[dict[str, Any]]) -> str | None:
    return str(max(int(item["id"]) for item in items)) if items else None


def _x_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
