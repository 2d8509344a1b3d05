"""Production builds publish only approved articles whose date has come."""

from .gate import register

__all__ = ["register"]
