"""The web console, mounted at /console: sign-in, API credentials, MSP integrations, findings."""

from __future__ import annotations

from openmira.console.app import CONSOLE_PREFIX, create_console

__all__ = ["CONSOLE_PREFIX", "create_console"]
