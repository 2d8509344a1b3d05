"""A Facebook Page over the Graph API with plain ``requests``.

Every call goes through :meth:`FacebookChannel._request`, which adds the Page token (as
the ``access_token`` parameter, with ``appsecret_proof`` when the app secret is known),
short-circuits mutating calls in a dry run, and maps Graph error codes to channel
errors. URLs are logged without their query, so the token never reaches a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import mimetypes
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests

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
from publish.posting.channels.credentials import FacebookCredentials, mask_secrets
from publish.posting.channels.errors import (
    AuthExpired,
    ChannelError,
    DuplicateContent,
    RateLimited,
    Rejected,
    TransientError,
)
from publish.posting.channels.transport import network_failure

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://graph.facebook.com/v26.0"
PAGE_SIZE = 100
COMMENT_FIELDS = "id,from{id,name},message,created_time,parent{id},permalink_url,is_hidden"
REPLY_FIELDS = "id,from{id},message,created_time,permalink_url"
# attachments tell two posts with one text apart: the link a link post shares
POST_FIELDS = "id,message,created_time,permalink_url,attachments{type,url,unshimmed_url}"
REQUIRED_SCOPES = ("pages_manage_posts", "pages_read_engagement", "pages_manage_engagement")
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tiff"}

AUTH_CODES = {102, 190}
RATE_LIMIT_CODES = {4, 17, 32, 613, 80001}
BLOCKED_CODE = 368
DUPLICATE_CODE = 506
TRANSIENT_CODES = {1, 2}
# "Object does not exist" on a DELETE: the post is already gone.
_MISSING = (100, 33)
_DEFAULT_RATE_WAIT = timedelta(minutes=5)


class FacebookChannel(Channel):
    """Posts (text, link, one or several photos), comments, deletes and reads comments on
    one Facebook Page. ``session`` may be passed in; the channel only adds requests to it."""

    name = "facebook"

    def __init__(
        self,
        credentials: FacebookCredentials,
        *,
        page_id: str | None = None,
        api_base: str = DEFAULT_API_BASE,
        web_base: str = "https://www.facebook.com",
        timeout: float = 30.0,
        dry_run: bool = False,
        clock: Clock = utc_now,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(dry_run=dry_run, clock=clock)
        self.request_timeout = timeout
        chosen = page_id or credentials.page_id
        if not chosen:
            raise ValueError(
                "a Facebook channel needs the Page id (settings or DP_FACEBOOK_PAGE_ID)"
            )
        self.page_id = chosen
        self.api_base = api_base.rstrip("/")
        self.web_base = web_base.rstrip("/")
        self.timeout = timeout
        self._credentials = credentials
        self._session = session or requests.Session()
        self._dry_ids = itertools.count(1)

    # --- the interface ---------------------------------------------------------------

    def post(self, message: Message) -> RemotePost:
        if message.reply_to:
            if message.media:
                raise Rejected("a Facebook comment carries no images here; post them instead")
            return self.reply(message.reply_to, message.text_with_link())
        if not message.text.strip() and not message.media:
            raise Rejected("nothing to post: the text is empty and there are no images")
        if not message.media:
            fields = {"message": message.text}
            if message.link:
                fields["link"] = message.link
            remote_id = str(self._request("POST", f"/{self.page_id}/feed", data=fields)["id"])
        elif len(message.media) == 1:
            # A photo post has no link field: the link goes into the caption.
            answer = self._upload(message.media[0], message.text_with_link(), published=True)
            remote_id = str(answer.get("post_id") or answer["id"])
        else:
            fields = {"message": message.text_with_link()}
            for index, media in enumerate(message.media):
                photo = self._upload(media, None, published=False)
                fields[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(photo["id"])})
            remote_id = str(self._request("POST", f"/{self.page_id}/feed", data=fields)["id"])
        if not self.dry_run:
            logger.info("Facebook post %s created", remote_id)
        return RemotePost(
            remote_id=remote_id,
            url=f"{self.web_base}/{remote_id}",
            created_at=None,
            text=message.text_with_link() if message.media else message.text,
        )

    def reply(self, remote_id: str, text: str) -> RemotePost:
        answer = self._request("POST", f"/{_segment(remote_id)}/comments", data={"message": text})
        comment_id = str(answer["id"])
        if not self.dry_run:
            logger.info("Facebook comment %s created under %s", comment_id, remote_id)
        return RemotePost(
            remote_id=comment_id, url=f"{self.web_base}/{comment_id}", created_at=None, text=text
        )

    def delete(self, remote_id: str) -> None:
        answer = self._request("DELETE", f"/{_segment(remote_id)}", missing_ok=True)
        if self.dry_run:
            return
        if answer.get("success"):
            logger.info("Facebook object %s deleted", remote_id)
        else:
            logger.info("Facebook object %s was already gone", remote_id)

    def recent_posts(self, since: datetime) -> list[RemotePost]:
        params = {"fields": POST_FIELDS, "since": int(since.timestamp()), "limit": PAGE_SIZE}
        posts = []
        for item in self._pages(f"/{self.page_id}/posts", params)[0]:
            posts.append(
                RemotePost(
                    remote_id=str(item["id"]),
                    url=item.get("permalink_url") or f"{self.web_base}/{item['id']}",
                    created_at=_parse_time(item.get("created_time")),
                    text=item.get("message"),
                    links=_post_links(item),
                )
            )
        return posts

    def find_reply(self, parent_id: str, text: str) -> RemotePost | None:
        """Looks through the comments directly under ``parent_id`` (a post's top-level
        comments, or a comment's replies), newest first, for one by the Page."""
        if made_up_in_dry_run(parent_id):
            return None
        params: dict[str, Any] = {
            "filter": "toplevel",
            "order": "reverse_chronological",
            "fields": REPLY_FIELDS,
            "limit": PAGE_SIZE,
        }
        wanted = comparable_text(text)
        for page in self._each_page(f"/{_segment(parent_id)}/comments", params):
            for item in page.get("data", []):
                ours = str((item.get("from") or {}).get("id")) == self.page_id
                if ours and comparable_text(item.get("message")) == wanted:
                    return RemotePost(
                        remote_id=str(item["id"]),
                        url=item.get("permalink_url") or f"{self.web_base}/{item['id']}",
                        created_at=_parse_time(item.get("created_time")),
                        text=item.get("message"),
                        reply_to=parent_id,
                    )
        return None

    def fetch_comments(self, post_id: str, cursor: str | None) -> CommentPage:
        """Every comment by others under ``post_id``, replies to comments included
        (``filter=stream``; ``parent_id`` is the comment answered, else the post), oldest
        first, newer than ``cursor``.

        ``cursor`` is Graph's ``after`` cursor of the last comment seen; the page's cursor
        is the one to pass next time. Comments the Page hid come back with
        ``hidden=True`` (a Page token sees them, with ``is_hidden``).
        """
        params: dict[str, Any] = {
            "filter": "stream",
            "order": "chronological",
            "fields": COMMENT_FIELDS,
            "limit": PAGE_SIZE,
        }
        if cursor:
            params["after"] = cursor
        items, last_cursor = self._pages(f"/{_segment(post_id)}/comments", params)
        comments = []
        for item in items:
            author = item.get("from") or {}
            if str(author.get("id")) == self.page_id:
                continue  # our own replies
            comments.append(
                RemoteComment(
                    remote_id=str(item["id"]),
                    parent_id=str((item.get("parent") or {}).get("id") or post_id),
                    post_id=post_id,
                    author_handle=author.get("id"),
                    author_name=author.get("name"),
                    text=item.get("message", ""),
                    created_at=_parse_time(item.get("created_time")) or self.clock(),
                    permalink=item.get("permalink_url"),
                    hidden=bool(item.get("is_hidden", False)),
                )
            )
        return CommentPage(comments=comments, cursor=last_cursor or cursor)

    def health(self) -> Health:
        try:
            answer = self._request(
                "GET", "/debug_token", params={"input_token": self._credentials.page_token}
            )
        except ChannelError as exc:
            return Health(ok=False, expires_at=None, message=str(exc))
        data = answer.get("data", {})
        expiries = [
            datetime.fromtimestamp(int(data[key]), UTC)
            for key in ("expires_at", "data_access_expires_at")
            if data.get(key)
        ]
        expires_at = min(expiries) if expiries else None
        problem = self._token_problem(data)
        if problem:
            return Health(ok=False, expires_at=expires_at, message=problem)
        when = f"until {expires_at.isoformat()}" if expires_at else "without expiry"
        return Health(ok=True, expires_at=expires_at, message=f"Page token valid {when}")

    # --- helpers ---------------------------------------------------------------------

    def _token_problem(self, data: dict[str, Any]) -> str | None:
        renew = "renew DP_FACEBOOK_PAGE_TOKEN"
        if not data.get("is_valid"):
            reason = (data.get("error") or {}).get("message", "the token is not valid")
            return f"Facebook: {reason}; {renew}"
        if data.get("type") not in (None, "PAGE"):
            return f"Facebook: DP_FACEBOOK_PAGE_TOKEN is a {data['type']} token, not a Page token"
        profile = data.get("profile_id")
        if profile and str(profile) != self.page_id:
            return f"Facebook: the token belongs to Page {profile}, not to Page {self.page_id}"
        missing = [scope for scope in REQUIRED_SCOPES if scope not in data.get("scopes", [])]
        if missing:
            return f"Facebook: the token lacks {', '.join(missing)}; {renew} with them"
        return None

    def _upload(self, media: MediaFile, caption: str | None, *, published: bool) -> dict[str, Any]:
        if media.path.suffix.lower() not in _IMAGE_SUFFIXES:
            raise Rejected(f"{media.path}: Facebook photos must be images")
        try:
            content = media.path.read_bytes()
        except OSError as exc:
            raise Rejected(f"cannot read media file {media.path}: {exc.strerror}") from None
        mime = mimetypes.guess_type(media.path.name)[0] or "application/octet-stream"
        fields = {"published": "true" if published else "false"}
        if caption:
            fields["message"] = caption
        if media.alt.strip():
            fields["alt_text_custom"] = media.alt
        return self._request(
            "POST",
            f"/{self.page_id}/photos",
            data=fields,
            files={"source": (media.path.name, content, mime)},
        )

    def _pages(self, path: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        """Every item of every page, and the ``after`` cursor of the last non-empty page."""
        items: list[dict[str, Any]] = []
        last_cursor: str | None = None
        for page in self._each_page(path, params):
            items.extend(page.get("data", []))
            after = page.get("paging", {}).get("cursors", {}).get("after")
            if after:
                last_cursor = after
        return items, last_cursor

    def _each_page(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The pages of a listing, fetched as they are consumed (a search can stop early)."""
        params = dict(params)
        while True:
            page = self._request("GET", path, params=params)
            yield page
            paging = page.get("paging", {})
            after = paging.get("cursors", {}).get("after")
            if not paging.get("next") or not after:
                return
            params["after"] = after

    def _auth(self) -> dict[str, str]:
        token = self._credentials.page_token
        fields = {"access_token": token}
        if self._credentials.app_secret:
            fields["appsecret_proof"] = hmac.new(
                self._credentials.app_secret.encode(), token.encode(), hashlib.sha256
            ).hexdigest()
        return fields

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        """The one door to the Graph API. Mutating calls in a dry run stop here, logged."""
        mutating = method != "GET"
        if mutating and self.dry_run:
            logger.info(
                "dry run: would %s %s%s %s", method, self.api_base, path, _describe(data, files)
            )
            return self._synthetic(method, path)
        if method == "POST":
            data = {**(data or {}), **self._auth()}
        else:
            params = {**(params or {}), **self._auth()}
        try:
            response = self._session.request(
                method,
                self.api_base + path,
                params=params,
                data=data,
                files=files,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise network_failure(exc, "Facebook", method, path) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if response.status_code >= 500:
                raise TransientError(
                    f"Facebook {method} {path}: answered {response.status_code}",
                    maybe_delivered=method != "GET",
                )
            raise Rejected(
                f"Facebook {method} {path}: unexpected answer ({response.status_code}): "
                f"{mask_secrets(response.text[:200])}"
            )
        if response.status_code >= 400 or "error" in body:
            error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
            if missing_ok and (error.get("code"), error.get("error_subcode")) == _MISSING:
                return {}
            raise self._error(response, error, method, path)
        return body

    def _error(
        self, response: requests.Response, error: dict[str, Any], method: str, path: str
    ) -> ChannelError:
        code = error.get("code")
        message = mask_secrets(str(error.get("message") or response.reason or "unknown error"))
        where = f"Facebook {method} {path}"
        if code in AUTH_CODES:
            return AuthExpired(
                f"{where}: the Page token no longer works ({message}); renew "
                "DP_FACEBOOK_PAGE_TOKEN (a long-lived Page token from a Page admin)"
            )
        if code in RATE_LIMIT_CODES:
            until = self._regain_access(response)
            return RateLimited(
                until, f"{where}: rate limited until {until.isoformat()} ({message})"
            )
        if code == BLOCKED_CODE:
            return Rejected(f"blocked: {message}")
        if code == DUPLICATE_CODE:
            return DuplicateContent(f"{where}: {message}")
        if code in TRANSIENT_CODES or response.status_code >= 500 or error.get("is_transient"):
            # Graph's "unexpected error, retry" can follow a write it carried out: a write
            # is in doubt, looked up before it is sent again
            return TransientError(f"{where}: {message}", maybe_delivered=method != "GET")
        return Rejected(f"{where}: {message} (code {code})")

    def _regain_access(self, response: requests.Response) -> datetime:
        minutes = 0
        for header in ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage"):
            minutes = max(minutes, _regain_minutes(response.headers.get(header)))
        return self.clock() + (timedelta(minutes=minutes) if minutes else _DEFAULT_RATE_WAIT)

    def _synthetic(self, method: str, path: str) -> dict[str, Any]:
        if method == "DELETE":
            return {"success": True}
        fake = f"{DRY_RUN_MARK}{next(self._dry_ids)}"
        if path.endswith("/photos"):
            return {"id": fake, "post_id": f"{self.page_id}_{fake}"}
        if path.endswith("/feed"):
            return {"id": f"{self.page_id}_{fake}"}
        return {"id": fake}


def _regain_minutes(header: str | None) -> int:
    """The largest ``estimated_time_to_regain_access`` (minutes) in a usage header, which
    is a dict of usage entries or of lists of them (X-Business-Use-Case-Usage)."""
    if not header:
        return 0
    try:
        usage = json.loads(header)
    except ValueError:
        return 0
    entries: list[Any] = []
    if isinstance(usage, dict):
        entries.append(usage)
        for value in usage.values():
            entries.extend(value if isinstance(value, list) else [value])
    minutes = 0
    for entry in entries:
        if isinstance(entry, dict):
            value = entry.get("estimated_time_to_regain_access")
            if isinstance(value, int | float):
                minutes = max(minutes, int(value))
    return minutes


def _describe(
    data: dict[str, str] | None, files: dict[str, tuple[str, bytes, str]] | None
) -> str:
    summary: dict[str, Any] = dict(data or {})
    for field, (filename, content, mime) in (files or {}).items():
        summary[field] = f"{filename} ({mime}, {len(content)} bytes)"
    return json.dumps(summary, ensure_ascii=False)


_URL = re.compile(r"https?://\S+")


def _post_links(item: dict[str, Any]) -> tuple[str, ...] | None:
    """The links a post carries: what its attachments share (``unshimmed_url``, else
    the l.php redirect's target) and the URLs in its message (a photo post's caption).
    None when Graph sent no ``attachments`` field while the message has no URL either:
    then nothing says which link it has, and lookups compare its text only."""
    attachments = item.get("attachments")
    in_text = tuple(_URL.findall(item.get("message") or ""))
    if not isinstance(attachments, dict):
        return in_text or None
    links: list[str] = []
    for attachment in attachments.get("data") or []:
        url = attachment.get("unshimmed_url") or _unshim(attachment.get("url"))
        if url:
            links.append(str(url))
    return (*links, *in_text)


def _unshim(url: str | None) -> str | None:
    """The target of Facebook's ``l.facebook.com/l.php?u=…`` redirect; others as they are."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc.endswith("facebook.com") and parts.path == "/l.php":
        return parse_qs(parts.query).get("u", [url])[0]
    return url


def _segment(remote_id: str) -> str:
    return quote(remote_id, safe="_")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except ValueError:
        return datetime.fromisoformat(value).astimezone(UTC)
