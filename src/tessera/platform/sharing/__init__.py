"""Delta Sharing as use cases: management, a recipient's reads and the files behind signed URLs."""
