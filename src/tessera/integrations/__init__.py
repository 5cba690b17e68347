"""Orchestrator integrations: run a mesh's builds from Airflow or Dagster (docs/orchestrators.md)."""
