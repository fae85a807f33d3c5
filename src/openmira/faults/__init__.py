"""Fault injection for rehearsing failures: answers of 429/500/503, added latency, revoked tokens.

Off unless asked for. Faults live in the database, so every server process sees them; each process keeps a
cached copy refreshed at most once per ``OPENMIRA_FAULT_CHECK_INTERVAL`` seconds (``book.py``).
"""
