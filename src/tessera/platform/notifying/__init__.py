"""Notifications: the outbox, the events the mesh raises, and following products."""
