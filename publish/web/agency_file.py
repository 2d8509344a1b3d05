"""The agency file, as the agency desk reads it: :mod:`publish.ops.agency` is its reader.

The desk needs the database, the workdir and, per site, its key, name and settings file
(:meth:`Agency.settings_path`); the workers read the same file through the same
function, so a site the desk shows is the site the workers tick. (The desk started with a
reader of its own while both parts of issue 20 were written in parallel.)
"""

from __future__ import annotations

from publish.ops.agency import Agency, AgencyError, AgencySite, load_agency

__all__ = ["Agency", "AgencyError", "AgencySite", "load_agency"]
