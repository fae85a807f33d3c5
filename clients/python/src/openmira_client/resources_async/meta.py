# Generated from openmira_client/resources by scripts/generate_async.py; do not edit.
"""Operations outside any tenant: health and the resolution catalog."""

from __future__ import annotations

from openmira_client._envelope import ListResponse
from openmira_client._models import Health, Resolution
from openmira_client._resource import AsyncResource, operation


class AsyncMeta(AsyncResource):
    @operation("GET", "/health")
    async def health(self) -> Health:
        """The server's name and build; needs no token."""
        return await self._one("GET", "/health", Health)

    @operation("GET", "/resolutions")
    async def resolutions(self) -> ListResponse[Resolution]:
        """The resolutions a finding may be resolved with (10 Valid, 20 False Positive, ...)."""
        return await self._list("/resolutions", ListResponse[Resolution], {})
