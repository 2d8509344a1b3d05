"""Approved comments from the networks and our replies, shown under each post."""

from .comments import register

__all__ = ["register"]
