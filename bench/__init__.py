"""OpenMira benchmarks: throughput and latency against a framework floor, and how cost grows with data.

Run ``python -m bench --help`` (or ``./dev bench --help``); see docs/benchmarks.md.
"""
