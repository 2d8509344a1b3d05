"""cmark-gfm rendering; the code lives in :mod:`editorial.markdown_html`.

The approvals render a piece exactly as the build does (to hash every file the page can
load), and ``editorial`` may not import plugins, so the renderer moved there.
"""

from editorial.markdown_html import CmarkRenderer, codehilite_options

__all__ = ["CmarkRenderer", "codehilite_options"]
