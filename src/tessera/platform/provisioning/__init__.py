"""Provisioning: plan and apply, repair of the catalog from Delta metadata, ``tessera doctor``."""
