"""``dialogpress desk``'s server: Werkzeug's, with a request log that hides the webhook's
verify token (Facebook sends it in the query string of the subscription handshake) and
the approval portal's magic links (the token is the last part of the path)."""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.serving import WSGIRequestHandler

_TOKEN = re.compile(r"(hub\.verify_token=)[^&\s]*")
_MAGIC_LINK = re.compile(
    r"(/portal/\d+/)(?!(?:approve|changes)(?:[\s?]|$)|preview/)[A-Za-z0-9_-]+"
)


def mask(line: str) -> str:
    """A request line or path with the secrets in it replaced by ``***``."""
    return _MAGIC_LINK.sub(r"\1***", _TOKEN.sub(r"\1***", line))


class MaskingRequestHandler(WSGIRequestHandler):
    """Logs each request as Werkzeug does, verify tokens and magic links as ``***``."""

    def log(self, type: str, message: str, *args: object) -> None:
        """Every line of the server's log (requests, errors, bad request lines), masked."""
        try:
            line = message % args if args else message
        except (TypeError, ValueError):
            line = " ".join([message, *map(str, args)])
        super().log(type, "%s", mask(line))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # the request's environ was built before the response is logged: only the log
        # line sees the masked path
        self.requestline = mask(self.requestline)
        if hasattr(self, "path"):
            self.path = mask(self.path)
        super().log_request(code, size)


def serve(app: Flask, host: str, port: int) -> None:
    """Serve until interrupted, one thread per request."""
    app.run(
        host=host,
        port=port,
        threaded=True,
        debug=False,
        use_reloader=False,
        request_handler=MaskingRequestHandler,
    )
