"""Review without git: review requests with magic links, the portal's work on the
branch, preview builds of a branch, and the desk's own clone of the site."""
