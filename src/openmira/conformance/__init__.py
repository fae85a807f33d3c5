"""``openmira conformance``: read-only checks of the Blumira wire contract against any server.

It sends GET requests and token requests only (never a write), with one key pair, and reports what differs
from docs/../spec: the token flow, envelopes, the paging walk, filters against a client-side oracle, errors
and rate-limit headers. It runs against OpenMira in CI and can be pointed at real Blumira.
"""
