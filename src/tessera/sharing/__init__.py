"""Delta Sharing below the platform: shares, recipients and their tokens in the catalog, signed file URLs, the
files of a shared table version (masked and row-filtered where the recipient must not see raw values), and
the protocol's predicate hints. ``tessera.platform.sharing.shares`` coordinates them; ``tessera.server.sharing``
speaks the protocol over HTTP."""
