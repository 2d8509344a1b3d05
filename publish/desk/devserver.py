"""``dialogpress desk``'s server: Werkzeug's, with a request log that hides the webhook's
verify token (Facebook sends it in the query string of the subscription handshake)."""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.serving import WSGIRequestHandler

_TOKEN = re.compile(r"(hub\.verify_token=)[^&\s]*")


class MaskingRequestHandler(WSGIRequestHandler):
    """Logs each request as Werkzeug does, the verify token replaced by ``***``."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # the request's environ was built before the response is logged: only the log
        # line sees the masked path
        self.requestline = _TOKEN.sub(r"\1***", self.requestline)
        if hasattr(self, "path"):
            self.path = _TOKEN.sub(r"\1***", self.path)
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
