"""Open Graph and X card tags, so that a shared link shows a title, a text and a picture."""

from .meta import register

__all__ = ["register"]
