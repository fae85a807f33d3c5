"""The response models, for type hints: ``from openmira_client.types import Finding``."""

from openmira_client._envelope import EvidencePage, ListResponse
from openmira_client._models import *  # noqa: F403
from openmira_client._models import __all__ as _models

__all__ = ["EvidencePage", "ListResponse", *_models]
