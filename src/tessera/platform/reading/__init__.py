"""Reading: the one door (``reader``) and the reads behind it (docs/architecture.md)."""
