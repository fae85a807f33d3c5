"""Operations outside any tenant: health and the resolution catalog."""

from __future__ import annotations

from openmira_client._envelope import ListResponse
from openmira_client._models import Health, Resolution
from openmira_client._resource import SyncResource, operation


class Meta(SyncResource):
    @operation("GET", "/health")
    def health(self) -> Health:
        """The server's name and build; needs no token."""
        return self._one("GET", "/health", Health)

    @operation("GET", "/resolutions")
    def resolutions(self) -> ListResponse[Resolution]:
        """The resolutions a finding may be resolved with (10 Valid, 20 False Positive, ...)."""
        return self._list("/resolutions", ListResponse[Resolution], {})
