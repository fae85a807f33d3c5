"""The base of every response model."""

from __future__ import annotations

import pydantic


class BaseModel(pydantic.BaseModel):
    # Keep fields this client does not know yet (a newer server), and let `self`, `type`... be field names.
    model_config = pydantic.ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())
