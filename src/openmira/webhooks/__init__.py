"""Webhooks: endpoints an organization or an MSP registers, the events they receive, signed deliveries."""
