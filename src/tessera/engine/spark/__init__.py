"""Spark Connect: the engine at scale (``engine: sc://host:port``). It owns its SQL translation (``sql``), its
type maps (``types``) and the publish of its own DataFrames on the cluster (``candidate``); the PySpark client
is imported only when a session is opened."""

from tessera.engine.spark.engine import SparkEngine, connect, forget, load_client, redact
from tessera.engine.spark.types import spark_type

__all__ = ["SparkEngine", "connect", "forget", "load_client", "redact", "spark_type"]
