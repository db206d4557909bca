"""JSON Schema documents of the models that cross a process boundary (topics, webhooks).

One rendering for every committed schema file, so regenerating them never reorders or
re-indents a file whose model did not change: 2020-12 dialect, an ``$id`` under
newswatch.dev, the wire form (aliases, serialization mode), sorted keys.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

__all__ = ["DIALECT", "json_schema_document", "render_json_schema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema_document(model: type[BaseModel], file_name: str) -> dict[str, Any]:
    """``model``'s JSON Schema as it is on the wire, identified as ``schemas/<file_name>``."""
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": DIALECT, "$id": f"https://newswatch.dev/schemas/{file_name}", **schema}


def render_json_schema(model: type[BaseModel], file_name: str) -> str:
    """The committed text of ``schemas/<file_name>``."""
    document = json_schema_document(model, file_name)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
