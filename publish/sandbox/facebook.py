"""The Graph API subset dialogpress uses for one Facebook Page, answered from memory.

Same paths (``/v26.0/{page-id}/feed`` and so on), parameters from the query string, a
form or a multipart body, ``fields`` with nested selections (``from{id,name}``), cursor
paging (``paging.cursors.after``, ``paging.next`` while there is more), and Graph's error
shape ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` with the
codes the channel maps (190, 4/17/32/613, 368, 506, 1/2, 100 + subcode 33).
Every answer carries ``X-App-Usage``; a rate-limit error adds
``X-Business-Use-Case-Usage`` with ``estimated_time_to_regain_access`` (minutes).

Authentication: the configured Page token as ``access_token``; when the sandbox has an
app secret, ``appsecret_proof`` (HMAC-SHA256 of the token) must match too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from publish.sandbox.demo import FACEBOOK_COMMENTS
from publish.sandbox.server import BadRequest, Failure, Reply, Request, SandboxServer

PAGE_ID = "100000000000001"
PAGE_NAME = "Stadtwerke Elbtal"
PAGE_TOKEN = "sandbox-page-token"  # noqa: S105 - the sandbox's made-up token, not a secret
FIRST_NUMBER = 1000000000000001
DEFAULT_SCOPES = [
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
]
COMMENT_FIELDS = {
    "id", "from", "message", "created_time", "parent", "permalink_url", "is_hidden",
    "can_hide", "comment_count", "like_count",
}
POST_FIELDS = {
    "id", "message", "created_time", "permalink_url", "is_published", "updated_time", "attachments",
}
ATTACHMENT_FIELDS = {"type", "url", "unshimmed_url", "title", "description", "target", "media"}
_VERSION = re.compile(r"^/v\d+\.\d+(?=/)")
_RATE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "There have been too many calls to this Page account. Wait a bit and try again.",
}


def _graph_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw.removeprefix("seq:"))
    except ValueError:
        raise BadRequest("invalid cursor") from None


def parse_fields(spec: str) -> dict[str, Any]:
    """``id,from{id,name}`` → ``{"id": None, "from": {"id": None, "name": None}}``."""
    result: dict[str, Any] = {}
    position = 0

    def parse(level: dict[str, Any]) -> None:
        nonlocal position
        name = ""
        while position < len(spec):
            char = spec[position]
            position += 1
            if char == ",":
                if name.strip():
                    level[name.strip()] = None
                name = ""
            elif char == "{":
                nested: dict[str, Any] = {}
                parse(nested)
                level[name.strip()] = nested
                name = ""
            elif char == "}":
                break
            else:
                name += char
        if name.strip():
            level[name.strip()] = None

    parse(result)
    return result


def graph_error(
    status: int,
    code: int,
    message: str,
    subcode: int | None = None,
    *,
    transient: bool = False,
    headers: dict[str, str] | None = None,
) -> Reply:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    error["fbtrace_id"] = secrets.token_urlsafe(12)
    return Reply(status, {"error": error}, headers=dict(headers or {}))


def _missing(object_id: str, operation: str = "get") -> Reply:
    return graph_error(
        400, 100,
        f"Unsupported {operation} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation.",
        33,
    )


class FacebookSandbox(SandboxServer):
    """Graph API for one Page on 127.0.0.1. Control endpoints (JSON, under ``/_sandbox/``):

    ``GET state``, ``GET requests``, ``POST reset``, ``POST fail``, ``POST inject-comment``
    ``{"on": post-or-comment id, "author_id"?, "author_name", "text", "created_at"?}``,
    ``POST edit-comment`` ``{"id", "text"}``, ``POST hide-comment`` ``{"id", "hidden"?}``,
    ``POST delete-comment`` ``{"id"}``, ``POST revoke-token`` ``{"revoked"?, "reason"?:
    "revoked"|"expired"}``, ``POST set-token`` ``{"expires_at"?, "data_access_expires_at"?,
    "scopes"?, "type"?}`` (what ``/debug_token`` reports).

    ``demo_comments``: the Page's first post gets the comments of
    :data:`publish.sandbox.demo.FACEBOOK_COMMENTS`, a few minutes after it.
    """

    network = "facebook"
    error_kinds = ("server", "transient", "rate_limit", "auth", "duplicate", "blocked",
                   "invalid", "code")

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        page_id: str = PAGE_ID,
        page_name: str = PAGE_NAME,
        page_token: str = PAGE_TOKEN,
        app_secret: str | None = None,
        page_size: int = 2,
        version: str = "v26.0",
        demo_comments: bool = False,
    ) -> None:
        super().__init__(host, port)
        self.demo_comments = demo_comments
        self.page_id = page_id
        self.page_name = page_name
        self.page_token = page_token
        self.app_secret = app_secret
        self.page_size = page_size
        self.version = version
        self.controls.update(
            {
                "inject-comment": self._inject_comment,
                "edit-comment": self._edit_comment,
                "hide-comment": self._hide_comment,
                "delete-comment": self._delete_comment,
                "revoke-token": self._revoke_token,
                "set-token": self._set_token,
            }
        )
        self._clear()

    @property
    def api_url(self) -> str:
        return f"{self.url}/{self.version}"

    def _clear(self) -> None:
        now = time.time()
        self.next_number = FIRST_NUMBER
        self.calls = 0
        self.posts: dict[str, dict[str, Any]] = {}
        self.photos: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.deleted: list[dict[str, Any]] = []
        self.demo_done = False
        self.token: dict[str, Any] = {
            "type": "PAGE",
            "revoked": False,
            "reason": "revoked",
            "issued_at": int(now),
            "expires_at": 0,
            "data_access_expires_at": int(now) + 90 * 86400,
            "scopes": list(DEFAULT_SCOPES),
        }

    def reset(self) -> None:
        with self.lock:
            super().reset()
            self._clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "page": {"id": self.page_id, "name": self.page_name},
            "token": dict(self.token),
            "next_number": self.next_number,
            "posts": sorted(self.posts.values(), key=lambda p: p["seq"]),
            "photos": sorted(self.photos.values(), key=lambda p: int(p["id"])),
            "comments": sorted(self.comments.values(), key=lambda c: c["seq"]),
            "deleted": self.deleted,
            "demo_comments_done": self.demo_done,
        }

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            self._clear()
            self.token.update(data.get("token", {}))
            self.next_number = int(data.get("next_number", FIRST_NUMBER))
            self.posts = {p["id"]: p for p in data.get("posts", [])}
            self.photos = {p["id"]: p for p in data.get("photos", [])}
            self.comments = {c["id"]: c for c in data.get("comments", [])}
            self.deleted = list(data.get("deleted", []))
            self.demo_done = bool(data.get("demo_comments_done", bool(self.posts)))

    # --- the API -------------------------------------------------------------------------

    def api(self, request: Request, failure: Failure | None) -> Reply:
        self.calls += 1
        path = _VERSION.sub("", request.path)
        if failure is not None and failure.error:
            reply = self._scripted(failure)
        else:
            reply = self._authenticate(request) or self._answer(request, path)
        usage = min(100, self.calls)
        reply.headers.setdefault(
            "X-App-Usage",
            json.dumps(
                {"call_count": usage, "total_cputime": usage // 2, "total_time": usage // 2}
            ),
        )
        return reply

    def server_error(self, status: int) -> Reply:
        return graph_error(
            status, 2, "An unexpected error has occurred. Please retry your request later.",
            transient=True,
        )

    def _authenticate(self, request: Request) -> Reply | None:
        params = request.params()
        token = params.get("access_token")
        header = request.headers.get("authorization", "")
        if not token and header.split(" ")[0] in ("OAuth", "Bearer"):
            token = header.partition(" ")[2].strip()
        if not token:
            return graph_error(400, 104, "An access token is required to request this resource.")
        if token != self.page_token:
            return self._token_error("Invalid OAuth access token - Cannot parse access token")
        if self.token["revoked"]:
            if self.token["reason"] == "expired":
                return self._token_error(
                    "Error validating access token: Session has expired.", 463
                )
            return self._token_error(
                "Error validating access token: The session has been invalidated because the "
                "user changed their password or Facebook has changed the session for security "
                "reasons.",
                460,
            )
        if self.app_secret:
            expected = hmac.new(
                self.app_secret.encode(), token.encode(), hashlib.sha256
            ).hexdigest()
            proof = params.get("appsecret_proof", "")
            # as bytes: a proof with non-ASCII characters is wrong, not a crash
            if not hmac.compare_digest(
                str(proof).encode("utf-8", "surrogateescape"), expected.encode("ascii")
            ):
                return graph_error(400, 100, "Invalid appsecret_proof provided in the API argument")
        return None

    def _token_error(self, message: str, subcode: int | None = None) -> Reply:
        reply = graph_error(400, 190, message, subcode)
        reply.headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
        return reply

    def _scripted(self, failure: Failure) -> Reply:
        kind = failure.error
        if kind == "rate_limit":
            code = failure.code or 32
            if failure.reset_at is not None:
                seconds = failure.reset_at - time.time()
            else:
                seconds = failure.reset_in if failure.reset_in is not None else 300
            minutes = max(1, math.ceil(seconds / 60))
            usage = {"type": "pages", "call_count": 100, "total_cputime": 100, "total_time": 100,
                     "estimated_time_to_regain_access": minutes}
            headers = {
                "X-App-Usage": json.dumps({"call_count": 100, "total_cputime": 100,
                                           "total_time": 100}),
                "X-Business-Use-Case-Usage": json.dumps({self.page_id: [usage]}),
            }
            message = failure.message or _RATE_MESSAGES.get(code, f"(#{code}) Rate limited")
            return graph_error(
                failure.status or 400, code, message, transient=True, headers=headers
            )
        if kind == "auth":
            return self._token_error(
                failure.message or "Error validating access token: Session has expired.", 463
            )
        if kind == "duplicate":
            return graph_error(400, 506, failure.message or "(#506) Duplicate status message")
        if kind == "blocked":
            return graph_error(
                400, 368,
                failure.message
                or "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
                1390008,
            )
        if kind == "invalid":
            return graph_error(400, 100, failure.message or "(#100) Invalid parameter")
        if kind == "transient":
            return graph_error(
                failure.status or 500, 2,
                failure.message
                or "An unexpected error has occurred. Please retry your request later.",
                transient=True,
            )
        if kind == "code":
            return graph_error(
                failure.status or 400, failure.code or 100, failure.message or "Scripted error"
            )
        return graph_error(
            failure.status or 500, 1, failure.message or "An unknown error has occurred."
        )

    def _answer(self, request: Request, path: str) -> Reply:
        segments = [s for s in path.split("/") if s]
        params = request.params()
        try:
            if request.method == "GET" and segments == ["me"]:
                return Reply(200, {"id": self.page_id, "name": self.page_name})
            if request.method == "GET" and segments == ["debug_token"]:
                return self._debug_token(params)
            if len(segments) == 2 and segments[0] == self.page_id:
                edge = segments[1]
                if request.method == "POST" and edge == "feed":
                    return self._create_post(params)
                if request.method == "POST" and edge == "photos":
                    return self._create_photo(request, params)
                if request.method == "GET" and edge in ("posts", "feed"):
                    return self._list_posts(params)
            if len(segments) == 2 and segments[1] == "comments":
                if request.method == "POST":
                    return self._create_comment(segments[0], params)
                if request.method == "GET":
                    return self._list_comments(segments[0], params)
            if len(segments) == 1 and request.method == "DELETE":
                return self._delete(segments[0])
            if len(segments) == 1 and request.method == "GET":
                return self._get(segments[0], params)
        except BadRequest as exc:
            return graph_error(400, 100, f"(#100) {exc}")
        return graph_error(
            400, 100, f"(#100) Unknown path components: {request.method} {path}", 2500
        )

    def _number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def _debug_token(self, params: dict[str, str]) -> Reply:
        data: dict[str, Any] = {
            "app_id": "100000000000999",
            "type": self.token["type"],
            "application": "dialogpress sandbox",
            "data_access_expires_at": self.token["data_access_expires_at"],
            "expires_at": self.token["expires_at"],
            "issued_at": self.token["issued_at"],
            "is_valid": True,
            "profile_id": self.page_id,
            "scopes": list(self.token["scopes"]),
            "user_id": "100000000000777",
        }
        if params.get("input_token") != self.page_token:
            data = {
                "is_valid": False,
                "scopes": [],
                "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse"},
            }
        return Reply(200, {"data": data})

    def _create_post(self, params: dict[str, str]) -> Reply:
        message = params.get("message", "")
        link = params.get("link")
        photo_ids = self._attached_media(params)
        if not message.strip() and not link and not photo_ids:
            return graph_error(400, 100, "(#100) Missing message or attachment")
        # Graph refuses a repeated status message (same text, same link); a post with
        # photos is not a status message and goes out again, duplicate or not.
        if (
            message.strip()
            and not photo_ids
            and any(
                p["message"] == message and p.get("link") == link and not p.get("photo_ids")
                for p in self.posts.values()
            )
        ):
            return graph_error(400, 506, "(#506) Duplicate status message")
        post = self._store_post(message, link, photo_ids)
        for photo_id in photo_ids:
            self.photos[photo_id]["post_id"] = post["id"]
        return Reply(200, {"id": post["id"]})

    def _attached_media(self, params: dict[str, str]) -> list[str]:
        raw: list[str] = [params["attached_media"]] if "attached_media" in params else []
        indexed: list[tuple[int, str]] = []
        for key, value in params.items():
            match = re.fullmatch(r"attached_media\[(\d+)\]", key)
            if match:
                indexed.append((int(match.group(1)), value))
        raw += [value for _, value in sorted(indexed)]
        entries: list[Any] = []
        for value in raw:
            try:
                parsed = json.loads(value)
            except ValueError:
                raise BadRequest("attached_media entries must be JSON objects") from None
            entries.extend(parsed if isinstance(parsed, list) else [parsed])
        photo_ids = []
        for entry in entries:
            photo_id = str(entry.get("media_fbid", "")) if isinstance(entry, dict) else ""
            photo = self.photos.get(photo_id)
            if photo is None or photo["published"] or photo["post_id"]:
                raise BadRequest(f"attached_media: {photo_id!r} is not an unpublished photo")
            photo_ids.append(photo_id)
        return photo_ids

    def _store_post(self, message: str, link: str | None, photo_ids: list[str]) -> dict[str, Any]:
        number = self._number()
        post: dict[str, Any] = {
            "id": f"{self.page_id}_{number}",
            "seq": number,
            "message": message,
            "link": link,
            "photo_ids": photo_ids,
            "created_time": _graph_time(time.time()),
            "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{number}",
        }
        self.posts[post["id"]] = post
        if self.demo_comments and not self.demo_done:
            self._inject_demo(post)
        return post

    def _inject_demo(self, post: dict[str, Any]) -> None:
        """The demo's comments under the Page's first post (``demo_comments``), once."""
        self.demo_done = True
        posted = _graph_epoch(post["created_time"])
        stored: list[dict[str, Any]] = []
        for comment in FACEBOOK_COMMENTS:
            parent = None if comment.answers is None else stored[comment.answers]
            author = {"id": comment.handle, "name": comment.name}
            stored.append(
                self._store_comment(
                    (post, parent), author, comment.text, posted + 60 * comment.minutes
                )
            )

    def _create_photo(self, request: Request, params: dict[str, str]) -> Reply:
        upload = request.files.get("source")
        if upload is None or not upload.content:
            return graph_error(400, 324, "(#324) Requires upload file", 2069019)
        published = params.get("published", "true").lower() != "false"
        number = self._number()
        photo: dict[str, Any] = {
            "id": str(number),
            "caption": params.get("message") or params.get("caption") or "",
            "alt_text": params.get("alt_text_custom"),
            "published": published,
            "post_id": None,
            "filename": upload.filename,
            "content_type": upload.content_type,
            "size": len(upload.content),
            "sha256": hashlib.sha256(upload.content).hexdigest(),
        }
        self.photos[photo["id"]] = photo
        if not published:
            return Reply(200, {"id": photo["id"]})
        post = self._store_post(photo["caption"], None, [photo["id"]])
        photo["post_id"] = post["id"]
        return Reply(200, {"id": photo["id"], "post_id": post["id"]})

    def _list_posts(self, params: dict[str, str]) -> Reply:
        fields = self._fields(params, POST_FIELDS, {"id", "message", "created_time"}, "PagePost")
        posts = sorted(self.posts.values(), key=lambda p: p["seq"], reverse=True)
        if "since" in params:
            since = self._time_param(params["since"])
            posts = [p for p in posts if _graph_epoch(p["created_time"]) >= since]
        if "until" in params:
            until = self._time_param(params["until"])
            posts = [p for p in posts if _graph_epoch(p["created_time"]) <= until]
        return self._page(posts, params, fields, self._render_post, reverse=True)

    def _time_param(self, value: str) -> float:
        if value.isdigit():
            return float(value)
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise BadRequest(f"invalid time {value!r}") from None

    def _fields(
        self, params: dict[str, str], supported: set[str], default: set[str], node: str
    ) -> dict[str, Any]:
        if "fields" not in params:
            return {name: None for name in default}
        fields = parse_fields(params["fields"])
        for name in fields:
            if name not in supported:
                raise BadRequest(
                    f"Tried accessing nonexisting field ({name}) on node type ({node})"
                )
        return fields

    def _page(
        self,
        items: list[dict[str, Any]],
        params: dict[str, str],
        fields: dict[str, Any],
        render: Any,
        *,
        reverse: bool,
    ) -> Reply:
        limit_raw = params.get("limit", "25")
        if not limit_raw.isdigit() or int(limit_raw) < 1:
            raise BadRequest(f"invalid limit {limit_raw!r}")
        limit = min(int(limit_raw), 100, self.page_size)
        if "after" in params:
            after = _uncursor(params["after"])
            items = [i for i in items if (i["seq"] < after if reverse else i["seq"] > after)]
        page, rest = items[:limit], items[limit:]
        body: dict[str, Any] = {"data": [render(item, fields) for item in page]}
        if page:
            paging: dict[str, Any] = {
                "cursors": {"before": _cursor(page[0]["seq"]), "after": _cursor(page[-1]["seq"])}
            }
            if rest:
                paging["next"] = "https://graph.facebook.com/{}/...?after={}".format(
                    self.version, paging["cursors"]["after"]
                )
            body["paging"] = paging
        return Reply(200, body)

    def _render_post(self, post: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        values = {
            "id": post["id"],
            "message": post["message"],
            "created_time": post["created_time"],
            "updated_time": post["created_time"],
            "permalink_url": post["permalink_url"],
            "is_published": True,
        }
        out = {"id": post["id"]}
        for name, selection in fields.items():
            if name == "message" and not post["message"]:
                continue  # Graph omits empty fields
            if name == "attachments":
                attachments = self._attachments(post, selection)
                if attachments:  # a post with no link and no photo has none: omitted
                    out[name] = {"data": attachments}
                continue
            out[name] = values[name]
        return out

    def _attachments(
        self, post: dict[str, Any], selection: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        """What Graph's ``attachments`` edge shows: a ``share`` for a link (``url``
        through Facebook's l.php redirect, ``unshimmed_url`` the link itself), a
        ``photo`` or ``album`` for photos (the link, if any, is in the message)."""
        wanted = set(selection or {"type", "url"})
        unknown = wanted - ATTACHMENT_FIELDS
        if unknown:
            raise BadRequest(
                f"Tried accessing nonexisting field ({sorted(unknown)[0]}) on node type "
                "(StoryAttachment)"
            )
        found: list[dict[str, Any]] = []
        if post.get("link"):
            found.append({
                "type": "share",
                "url": "https://l.facebook.com/l.php?u=" + quote(post["link"], safe="")
                + "&h=AT0sandbox",
                "unshimmed_url": post["link"],
                "title": post["link"],
            })
        elif post.get("photo_ids"):
            album = len(post["photo_ids"]) > 1
            found.append({
                "type": "album" if album else "photo",
                "url": f"https://www.facebook.com/photo.php?fbid={post['photo_ids'][0]}",
                "unshimmed_url": f"https://www.facebook.com/photo.php?fbid={post['photo_ids'][0]}",
            })
        return [{key: value for key, value in item.items() if key in wanted} for item in found]

    def _target(self, object_id: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """(post, comment or None) for a post or comment id, None if neither exists."""
        if object_id in self.posts:
            return self.posts[object_id], None
        comment = self.comments.get(object_id)
        if comment is not None and comment["post_id"] in self.posts:
            return self.posts[comment["post_id"]], comment
        return None

    def _create_comment(self, object_id: str, params: dict[str, str]) -> Reply:
        target = self._target(object_id)
        if target is None:
            return _missing(object_id, "post")
        message = params.get("message", "")
        if not message.strip():
            return graph_error(400, 100, "(#100) Missing message or attachment")
        comment = self._store_comment(
            target, {"id": self.page_id, "name": self.page_name}, message, time.time()
        )
        return Reply(200, {"id": comment["id"]})

    def _store_comment(
        self,
        target: tuple[dict[str, Any], dict[str, Any] | None],
        author: dict[str, str],
        message: str,
        created: float,
    ) -> dict[str, Any]:
        post, parent = target
        number = self._number()
        post_number = post["id"].split("_")[-1]
        comment = {
            "id": f"{post_number}_{number}",
            "seq": number,
            "post_id": post["id"],
            "parent_id": parent["id"] if parent else None,
            "from": dict(author),
            "message": message,
            "created_time": _graph_time(created),
            "is_hidden": False,
            "permalink_url": (
                f"https://www.facebook.com/{self.page_id}/posts/{post_number}"
                f"?comment_id={number}"
            ),
        }
        self.comments[comment["id"]] = comment
        return comment

    def _list_comments(self, object_id: str, params: dict[str, str]) -> Reply:
        target = self._target(object_id)
        if target is None:
            return _missing(object_id)
        fields = self._fields(
            params, COMMENT_FIELDS, {"id", "from", "message", "created_time"}, "Comment"
        )
        post, parent = target
        mode = params.get("filter", "toplevel")
        if mode not in ("toplevel", "stream"):
            raise BadRequest("filter must be toplevel or stream")
        if parent is not None:
            comments = [c for c in self.comments.values() if c["parent_id"] == parent["id"]]
        elif mode == "stream":
            comments = [c for c in self.comments.values() if c["post_id"] == post["id"]]
        else:
            comments = [
                c for c in self.comments.values()
                if c["post_id"] == post["id"] and c["parent_id"] is None
            ]
        order = params.get("order", "chronological")
        if order not in ("chronological", "reverse_chronological"):
            raise BadRequest("order must be chronological or reverse_chronological")
        reverse = order == "reverse_chronological"
        comments.sort(key=lambda c: c["seq"], reverse=reverse)
        return self._page(comments, params, fields, self._render_comment, reverse=reverse)

    def _render_comment(self, comment: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        replies = sum(1 for c in self.comments.values() if c["parent_id"] == comment["id"])
        values: dict[str, Any] = {
            "id": comment["id"],
            "from": comment["from"],
            "message": comment["message"],
            "created_time": comment["created_time"],
            "parent": {"id": comment["parent_id"]} if comment["parent_id"] else None,
            "permalink_url": comment["permalink_url"],
            "is_hidden": comment["is_hidden"],
            "can_hide": comment["from"]["id"] != self.page_id,
            "comment_count": replies,
            "like_count": 0,
        }
        out: dict[str, Any] = {}
        for name, selection in fields.items():
            value = values[name]
            if value is None:
                continue
            if isinstance(value, dict) and selection:
                value = {key: value[key] for key in selection if key in value}
            out[name] = value
        out["id"] = comment["id"]
        return out

    def _get(self, object_id: str, params: dict[str, str]) -> Reply:
        if object_id in self.posts:
            fields = self._fields(params, POST_FIELDS, {"id", "message", "created_time"}, "Post")
            return Reply(200, self._render_post(self.posts[object_id], fields))
        if object_id in self.comments:
            fields = self._fields(
                params, COMMENT_FIELDS, {"id", "from", "message", "created_time"}, "Comment"
            )
            return Reply(200, self._render_comment(self.comments[object_id], fields))
        return _missing(object_id)

    def _delete(self, object_id: str) -> Reply:
        if object_id in self.posts:
            post = self.posts.pop(object_id)
            gone = [c for c in self.comments.values() if c["post_id"] == object_id]
            for comment in gone:
                del self.comments[comment["id"]]
            self.deleted.append({"kind": "post", **post})
        elif object_id in self.comments:
            self.deleted.append({"kind": "comment", **self.comments.pop(object_id)})
        elif object_id in self.photos:
            self.deleted.append({"kind": "photo", **self.photos.pop(object_id)})
        else:
            return _missing(object_id, "delete")
        return Reply(200, {"success": True})

    # --- control -------------------------------------------------------------------------

    def _inject_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        object_id = str(payload.get("on") or payload.get("post_id") or "")
        target = self._target(object_id)
        if target is None:
            raise BadRequest(f"no post or comment {object_id!r} to comment on")
        name = str(payload.get("author_name") or "Anwohnerin")
        author_id = str(payload.get("author_id") or payload.get("author_handle") or "")
        if not author_id:
            author_id = str(100000000000000 + int(hashlib.sha256(name.encode()).hexdigest(), 16)
                            % 10**14)
        created = payload.get("created_at")
        moment = (
            datetime.fromisoformat(str(created).replace("Z", "+00:00")).timestamp()
            if created else time.time()
        )
        comment = self._store_comment(
            target, {"id": author_id, "name": name}, str(payload["text"]), moment
        )
        return dict(comment)

    def _existing(self, payload: dict[str, Any]) -> dict[str, Any]:
        comment = self.comments.get(str(payload["id"]))
        if comment is None:
            raise BadRequest(f"no comment {payload['id']}")
        return comment

    def _edit_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        comment = self._existing(payload)
        comment["message"] = str(payload["text"])
        return dict(comment)

    def _hide_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        comment = self._existing(payload)
        comment["is_hidden"] = bool(payload.get("hidden", True))
        return dict(comment)

    def _delete_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        comment = self._existing(payload)
        self.deleted.append({"kind": "comment", **self.comments.pop(comment["id"])})
        return {"deleted": comment["id"]}

    def _revoke_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        reason = payload.get("reason", "revoked")
        if reason not in ("revoked", "expired"):
            raise BadRequest("reason must be revoked or expired")
        self.token["revoked"] = bool(payload.get("revoked", True))
        self.token["reason"] = reason
        return {"revoked": self.token["revoked"], "reason": reason}

    def _set_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        for key in ("expires_at", "data_access_expires_at"):
            if key in payload:
                self.token[key] = int(payload[key])
        if "scopes" in payload:
            self.token["scopes"] = [str(scope) for scope in payload["scopes"]]
        if "type" in payload:
            self.token["type"] = str(payload["type"])
        return {key: value for key, value in self.token.items() if key != "reason"}


def _graph_epoch(value: str) -> float:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").timestamp()
