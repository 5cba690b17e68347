"""SLA monitoring: product status (freshness, quality, availability), incidents to open or resolve, webhooks;
SLOs with error budgets (``slo``) and their burn-rate alerts (``burn``)."""

from tessera.monitoring.status import (
    IncidentChanges,
    IncidentToOpen,
    IncidentToResolve,
    ProductStatus,
    diff_incidents,
    product_status,
)
from tessera.monitoring.webhooks import send_webhook

__all__ = [
    "IncidentChanges",
    "IncidentToOpen",
    "IncidentToResolve",
    "ProductStatus",
    "diff_incidents",
    "product_status",
    "send_webhook",
]
