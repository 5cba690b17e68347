"""Access: identities (users, service principals, groups), grants, tokens, access requests, and the masked,
row-filtered reads a principal's grants allow."""
