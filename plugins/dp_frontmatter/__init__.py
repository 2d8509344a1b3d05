"""Pelican reads posts as Markdown with YAML front matter, the format editors write."""

from .reader import register

__all__ = ["register"]
