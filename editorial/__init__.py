"""Editorial side of dialogpress: pieces, checks, approvals, review.

Nothing in this package talks to a network or a database; it reads the site's
repository and settings and says what is in it and whether it may go out.
"""
