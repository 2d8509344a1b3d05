"""Each post shows where it was shared; retracted posts leave the site."""

from .links import register

__all__ = ["register"]
