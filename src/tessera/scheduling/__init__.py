"""Schedules and the scheduler: which products to rebuild when, in DAG order, with an injected clock."""

from tessera.scheduling.cron import Schedule, parse_schedule
from tessera.scheduling.scheduler import ProductRunState, Scheduler

__all__ = ["ProductRunState", "Schedule", "Scheduler", "parse_schedule"]
