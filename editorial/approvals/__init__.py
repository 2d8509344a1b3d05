"""Client approvals: signed, bound to a piece's content, stored in the piece's front matter.

The client's promise is that nothing goes public that one of their approvers did not
approve, in exactly the version they saw. So an approval signs (with the approver's SSH
key, ``ssh-keygen -Y sign``) the piece's id and a hash of its content; any change of
meaning changes the hash and leaves the approval *stale*, while formatting noise (line
endings, trailing blanks, the order of front-matter keys) does not.

Approvals live in the piece's own front matter (``approvals:``) so that they show in the
pull request's diff and travel with the text through squash merges and rebases; nothing
about them depends on commit ids. The id signed is the file's path under ``content/``:
an approval copied into another file is detected, and renaming a file needs a new
approval.

Nobody approves their own piece: the authors are everyone who committed a change of its
content (approval-only commits excepted), whoever has uncommitted changes of it in this
working tree (the current git user), and everyone its front matter names.

Approvers who do not use git approve in the desk's portal (``via: portal``). The portal
signs with a key of its own on their behalf, and such an approval counts only when
``PORTAL_SIGNER`` lists that approver: the portal's key can never speak for anyone the
client did not name, and the portal's signature cannot pass for the approver's own.

This package is cut by concept; import from here (the façade), not from its modules:

- :mod:`.record` — the approval record, its constants, reading it from front matter;
- :mod:`.hashing` — the content hash an approval signs;
- :mod:`.keys` — approvers and the portal signer of the trust root, public keys;
- :mod:`.signing` — ``ssh-keygen -Y`` signing and verifying;
- :mod:`.authorship` — who wrote a piece (nobody approves their own);
- :mod:`.state` — each piece's approval state, for all pieces at once;
- :mod:`.writing` — signing the current version and appending it to the front matter.
"""

from editorial.approvals.authorship import Author, authors_of
from editorial.approvals.hashing import (
    canonical_front_matter,
    content_folder,
    content_hash,
    file_digest,
    referenced_media,
    text_fingerprint,
)
from editorial.approvals.keys import (
    Approver,
    PortalSigner,
    approver_for_key,
    approvers,
    find_approver,
    portal_signer,
    public_key,
    trust_root,
)
from editorial.approvals.record import (
    NAMESPACE,
    PAYLOAD_VERSION,
    PORTAL,
    PORTAL_PRINCIPAL,
    PUBLIC_STATES,
    REVIEW_KEYS,
    Approval,
    ApprovalError,
    State,
    Verdict,
    parse_approval,
    piece_approvals,
)
from editorial.approvals.signing import sign
from editorial.approvals.state import (
    ApprovalCheck,
    ApprovalState,
    approval_findings,
    approval_state,
    approval_states,
    approvals_start_note,
    needs_approval,
    overall_state,
    signer_problem,
)
from editorial.approvals.writing import sign_approval, sign_portal_approval, write_approval

__all__ = [
    "NAMESPACE",
    "PAYLOAD_VERSION",
    "PORTAL",
    "PORTAL_PRINCIPAL",
    "PUBLIC_STATES",
    "REVIEW_KEYS",
    "Approval",
    "ApprovalCheck",
    "ApprovalError",
    "ApprovalState",
    "Approver",
    "Author",
    "PortalSigner",
    "State",
    "Verdict",
    "approval_findings",
    "approval_state",
    "approval_states",
    "approvals_start_note",
    "approver_for_key",
    "approvers",
    "authors_of",
    "canonical_front_matter",
    "content_folder",
    "content_hash",
    "file_digest",
    "find_approver",
    "needs_approval",
    "overall_state",
    "parse_approval",
    "piece_approvals",
    "portal_signer",
    "public_key",
    "referenced_media",
    "sign",
    "sign_approval",
    "sign_portal_approval",
    "signer_problem",
    "text_fingerprint",
    "trust_root",
    "write_approval",
]
