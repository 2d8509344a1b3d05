"""Publishing side of dialogpress, grouped by job.

- :mod:`publish.site` builds the Pelican site behind the approval gate and deploys it.
- :mod:`publish.posting` sends approved snippets to the networks exactly once.
- :mod:`publish.moderation` brings replies and comments back and works them.
- :mod:`publish.review` lets client approvers review a branch through the portal.
- :mod:`publish.notify` tells people (mail).
- :mod:`publish.ops` runs it all: scheduler, lock, workers, the process context.
- :mod:`publish.store` is the database; :mod:`publish.sandbox` the networks' stand-in;
  :mod:`publish.web` the desk; :mod:`publish.cli` the thin commands.

It builds on :mod:`editorial` (imports run ``publish → editorial``, never back); the
import rules are a test (``tests/test_import_rules.py``).
"""
