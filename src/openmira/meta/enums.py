"""The contract's enumerations (section 6)."""

from __future__ import annotations

STATUS_OPEN = 10
STATUS_RESOLVED = 40
STATUSES = {STATUS_OPEN: "Open", STATUS_RESOLVED: "Resolved"}

RESOLUTIONS = {10: "Valid", 20: "False Positive", 30: "No Action Needed", 40: "Risk Accepted"}

FINDING_TYPES = {10: "Threat", 20: "Suspect", 30: "Risk", 40: "Operational", 50: "System Notification"}
