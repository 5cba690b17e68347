"""Remediation: retention and the right to erasure, and the table rewrites they share."""
