"""The agent action catalog: what can be dispatched to a device, and the request body of a dispatch.

The body is a union tagged by ``action``, so the document states exactly which ``params`` each action
accepts (and a client generator gets one type per action). Params objects refuse unknown keys and take
JSON types strictly: ``"30"`` is not a number of seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from openmira.core.text import AGENT_REASON_MAX, NO_NUL

ISOLATE, RELEASE, RESTART = "isolate", "release", "restart"


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RestartParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_seconds: StrictInt = Field(
        default=0, ge=0, le=3600, description="Wait this long before restarting (users are warned)."
    )
    force: StrictBool = Field(default=False, description="Restart even if applications refuse to close.")


_REASON = Field(
    default=None, max_length=AGENT_REASON_MAX, pattern=NO_NUL,
    description="Why; kept with the command for the audit trail. No NUL characters.",
)


class _Dispatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = _REASON


class IsolateIn(_Dispatch):
    action: Literal["isolate"]
    params: NoParams | None = None


class ReleaseIn(_Dispatch):
    action: Literal["release"]
    params: NoParams | None = None


class RestartIn(_Dispatch):
    action: Literal["restart"]
    params: RestartParams | None = None


DispatchIn = Annotated[IsolateIn | ReleaseIn | RestartIn, Field(discriminator="action")]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    description: str
    params: type[BaseModel]

    def params_schema(self) -> dict[str, Any]:
        """The JSON Schema of the action's ``params`` object, as the catalog shows it."""
        schema = self.params.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return schema


CATALOG: tuple[ActionSpec, ...] = (
    ActionSpec(
        ISOLATE,
        "Cut the device off the network except for the Blumira service, so an attacker loses it. "
        "Refused (409) for devices excluded from isolation.",
        NoParams,
    ),
    ActionSpec(RELEASE, "End the isolation of the device and restore its network access.", NoParams),
    ActionSpec(RESTART, "Restart the device's operating system.", RestartParams),
)
assert {a.name for a in CATALOG} == {ISOLATE, RELEASE, RESTART}
