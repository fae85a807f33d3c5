"""A typed client for the Blumira Public API, and for OpenMira, its open implementation.

    from openmira_client import Client

    with Client(client_id, client_secret, base_url=..., token_url=...) as client:
        for finding in client.org.findings.iter(status=10, priority__in=[1, 2]):
            print(finding.short_id, finding.name)
"""

from openmira_client._client import AsyncClient, Client
from openmira_client._core import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL
from openmira_client._envelope import EvidencePage, ListResponse
from openmira_client._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    OpenMiraError,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TokenError,
    Unauthorized,
    UnsupportedMediaType,
)
from openmira_client._pager import AsyncPager, SyncPager
from openmira_client._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncPager",
    "BadRequest",
    "Client",
    "Conflict",
    "EvidencePage",
    "Forbidden",
    "ListResponse",
    "MethodNotAllowed",
    "NotFound",
    "OpenMiraError",
    "PayloadTooLarge",
    "RateLimited",
    "ServerError",
    "ServiceUnavailable",
    "SyncPager",
    "TokenError",
    "Unauthorized",
    "UnsupportedMediaType",
    "__version__",
]
