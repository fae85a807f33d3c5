"""Generate ``openmira_client/_models.py`` from the server's OpenAPI document (a dev tool, run by hand).

    python clients/python/scripts/generate_models.py [openapi.json] > clients/python/src/openmira_client/_models.py

Without a file it builds the document from the server package (``openmira`` must be importable). The
client's test suite runs :func:`render` on the live server's document and fails when the committed module
differs, so the models cannot drift from the server.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# Server schema name -> client model name. Request bodies (``*In``), envelopes (the client has generic
# ones) and the problem document (attached to exceptions as a dict) are not generated.
NAMES = {
    "Person": "Person",
    "OrgRole": "OrgRole",
    "Owners": "Owners",
    "Meta": "Meta",
    "Links": "Links",
    "Health": "Health",
    "Resolution": "Resolution",
    "FindingOut": "Finding",
    "FindingDetails": "FindingDetails",
    "CommentOut": "Comment",
    "UserOut": "User",
    "DeviceOut": "Device",
    "KeyOut": "AgentKey",
    "ActionOut": "Action",
    "ActionCatalog": "ActionCatalog",
    "CommandOut": "Command",
    "RuleOut": "DetectionRule",
    "BasisRuleOut": "BasisRule",
    "AccountOut": "Account",
    "AccountDetailOut": "AccountDetail",
    "WebhookOut": "Webhook",
    "WebhookWithSecret": "WebhookWithSecret",
    "DeliveryOut": "Delivery",
    "DeliveryDetail": "DeliveryDetail",
}

HEADER = '''"""Response models, generated from the server's OpenAPI document by scripts/generate_models.py.

Do not edit by hand: change the server, then regenerate. Unknown fields are kept (``extra="allow"``), so a
newer server does not break an older client.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any, Literal, TypedDict

from openmira_client._base_model import BaseModel
'''


def _ref(ref: str) -> str:
    return NAMES[ref.rsplit("/", 1)[1]]


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return _ref(schema["$ref"])
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if "const" in schema:
        return f"Literal[{schema['const']!r}]"
    if "enum" in schema:
        return "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
    kind = schema.get("type")
    if kind == "null":
        return "None"
    if kind == "string":
        return "datetime.datetime" if schema.get("format") == "date-time" else "str"
    if kind == "integer":
        return "int"
    if kind == "number":
        return "float"
    if kind == "boolean":
        return "bool"
    if kind == "array":
        return f"list[{_type(schema.get('items', {}))}]"
    if kind == "object":
        return "dict[str, Any]"
    return "Any"


def render(document: dict[str, Any]) -> str:
    schemas = document["components"]["schemas"]
    out = [HEADER.rstrip("\n")]
    for server_name, name in NAMES.items():
        schema = schemas[server_name]
        out.append(f"\n\nclass {name}(BaseModel):")
        if schema.get("description"):
            out.append(f'    """{schema["description"]}"""\n')
        required = set(schema.get("required", []))
        for field, spec in schema.get("properties", {}).items():
            annotation = _type(spec)
            default = "" if field in required else " = None"
            if field not in required and "None" not in annotation.split(" | "):
                annotation += " | None"
            out.append(f"    {field}: {annotation}{default}")
    out.extend(_finding_filters(document))
    out.append("\n\n__all__ = [")
    out.extend(f"    {name!r}," for name in sorted([*NAMES.values(), "FindingFilters"]))
    out.append("]")
    return "\n".join(out) + "\n"


# Query parameters of the findings list that are paging, not filters.
PAGING = {"page", "page_size", "limit", "order_by"}


def _filter_type(schema: dict[str, Any]) -> str:
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "integer":
        return "int"
    if kind == "boolean":
        return "bool"
    if fmt == "date-time":
        return "datetime.datetime | str"
    if fmt == "uuid":
        return "uuid.UUID | str"
    return "str"


def _finding_filters(document: dict[str, Any]) -> list[str]:
    """``FindingFilters``: the filter keywords of ``findings.list``/``iter``, from the server's parameters
    (``status.!eq`` becomes ``status__not_eq``); a list operator takes a sequence or a comma-joined string."""
    params = [p for p in document["paths"]["/org/findings"]["get"]["parameters"]
              if p["in"] == "query" and p["name"] not in PAGING]
    bare = {p["name"]: p["schema"] for p in params if "." not in p["name"]}
    out = [
        "\n\nclass FindingFilters(TypedDict, total=False):",
        '    """Finding filters: ``field__op`` is ``field.op``, ``field__not_op`` is ``field.!op``."""\n',
    ]
    for param in params:
        field, _, op = param["name"].partition(".")
        key = field if not op else f"{field}__{'not_' if op.startswith('!') else ''}{op.lstrip('!')}"
        annotation = _filter_type(bare.get(field, param["schema"]) if op.lstrip("!") != "contains" else {})
        if op.lstrip("!") == "regex":
            annotation = "str"
        if op.lstrip("!") == "in":
            annotation = f"Sequence[{annotation}] | str"
        out.append(f"    {key}: {annotation}")
    return out


def server_document() -> dict[str, Any]:
    from openmira.api import create_api
    from openmira.config import Settings
    from openmira.runtime import Runtime

    runtime = Runtime.build(Settings(database_url="sqlite://"))
    try:
        return create_api(runtime).openapi()
    finally:
        runtime.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            doc = json.load(f)
    else:
        doc = server_document()
    sys.stdout.write(render(doc))
