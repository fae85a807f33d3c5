"""OpenMira: a self-hostable implementation of the Blumira Public API."""

__version__ = "0.1.0"
