"""Observability: OpenLineage events, SLA monitoring, SLOs, stats, lineage, usage and browsing."""
