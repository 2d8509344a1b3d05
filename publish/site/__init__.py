"""The site: the production build behind the approval gate, its stamp, the site data
the theme shows (comments, syndication links), the atomic deploy, and a new site from the
skeleton (``quickstart``, ``dialogpress init``)."""
