"""invoke tasks, shaped as pelican-quickstart makes them, each a call of `dialogpress`.

`invoke publish` keeps Pelican's name for a production build; dialogpress calls putting
that build live `deploy`, so the two words never mean the same thing here.
"""

import shlex

from invoke import task

CONFIG = {
    "settings_base": "pelicanconf.py",
    "settings_publish": "publishconf.py",
    "port": 8000,
}


def _dialogpress(c, *args):
    c.run("dialogpress " + " ".join(shlex.quote(str(a)) for a in args), pty=False)


@task
def check(c):
    """Validate every post and snippet against the schema and the guideline."""
    _dialogpress(c, "check", "-s", CONFIG["settings_base"])


@task
def build(c):
    """Build the development site into output/."""
    _dialogpress(c, "build", "-s", CONFIG["settings_base"])


@task
def serve(c):
    """Serve output/ at http://127.0.0.1:PORT/."""
    _dialogpress(c, "serve", "--port", CONFIG["port"], "-s", CONFIG["settings_base"])


@task
def livereload(c):
    """Build, serve, and rebuild whenever content, theme or plugins change."""
    _dialogpress(
        c, "serve", "--autoreload", "--port", CONFIG["port"], "-s", CONFIG["settings_base"]
    )


@task
def publish(c):
    """Build the production site (publishconf.py): only approved articles whose date has come."""
    _dialogpress(c, "build", "--production", "-s", CONFIG["settings_base"])
