"""Where the parts that ship inside the installed package are: the theme.

A site that installed dialogpress with pip names the packaged theme in its settings
instead of copying it::

    from publish.packaged import plugin_paths, theme_path
    THEME = theme_path()
    PLUGIN_PATHS = plugin_paths()
    PLUGINS = ["dp_frontmatter", "dp_approval_gate", ...]

The plugins install as Pelican namespace plugins (``pelican.plugins.dp_*``), which
Pelican finds by their short names with no ``PLUGIN_PATHS`` at all; :func:`plugin_paths`
is then empty. Only an editable install of a checkout (``pip install -e``, ``make
install``) hides them from Pelican's discovery, which lists the folder
``pelican/plugins/`` and not setuptools' editable finder; there it names the checkout's
``plugins/`` folder, so that the same settings build from a checkout too.

This module imports nothing but :mod:`pathlib`, because ``pelicanconf.py`` imports it:
a settings file must stay cheap to run, and nothing here may import Pelican or the rest
of dialogpress.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def theme_path() -> str:
    """The dialogpress theme's folder, for ``THEME``.

    In an installed wheel the theme is package data beside this module
    (``publish/theme/``); in a checkout of the repository it is the top-level ``theme/``
    folder, its only source (pyproject.toml maps one onto the other).
    """
    for folder in (_HERE / "theme", _HERE.parent / "theme"):
        if (folder / "templates" / "base.html").is_file():
            return str(folder)
    raise FileNotFoundError(
        f"the dialogpress theme is missing: neither {_HERE / 'theme'} nor "
        f"{_HERE.parent / 'theme'} holds templates/base.html; reinstall dialogpress"
    )


def plugin_paths() -> list[str]:
    """``PLUGIN_PATHS`` for the dp_* plugins: none when installed from a wheel (Pelican
    discovers them as namespace plugins), the checkout's ``plugins/`` otherwise."""
    checkout = _HERE.parent / "plugins"
    if (checkout / "dp_frontmatter" / "__init__.py").is_file():
        return [str(checkout)]
    return []
