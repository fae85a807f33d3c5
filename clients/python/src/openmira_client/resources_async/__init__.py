# Generated from openmira_client/resources by scripts/generate_async.py; do not edit.
"""Resource classes: written for the sync client; resources_async holds their generated async twins."""
