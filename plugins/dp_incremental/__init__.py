"""Builds that render only what changed, on every core, equal to a full build."""

from .incremental import register

__all__ = ["register"]
