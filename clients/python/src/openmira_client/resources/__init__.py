"""Resource classes: written for the sync client; resources_async holds their generated async twins."""
