"""The desk: the web application where moderators work the inbox and the agency sees
every channel's health, the calendar and the response times.

Build it with :func:`create_app`; serve it with ``dialogpress desk`` on one machine or
with any WSGI server in production (README, "The desk").
"""

from publish.web.app import create_app

__all__ = ["create_app"]
