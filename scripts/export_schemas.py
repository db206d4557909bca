"""Write ``schemas/<kind>.v<major>.json`` (JSON Schema 2020-12) for every topic's message.

The files are generated from the pydantic models in ``newswatch.models.messages`` and committed,
so consumers in other languages can validate without Python. ``tests/unit/test_contracts.py``
fails when a model changes and its schema file was not regenerated: run

    .venv/bin/python scripts/export_schemas.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from newswatch.models.jsonschema import json_schema_document, render_json_schema
from newswatch.models.messages import MESSAGE_KINDS, Message

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def schema_path(model: type[Message]) -> Path:
    return SCHEMA_DIR / f"{model.KIND}.v{model.VERSION}.json"


def schema_of(model: type[Message]) -> dict[str, Any]:
    """The model's JSON Schema as it is on the wire (aliases, e.g. ``schema``), with an id."""
    return json_schema_document(model, schema_path(model).name)


def render(model: type[Message]) -> str:
    return render_json_schema(model, schema_path(model).name)


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for model in MESSAGE_KINDS:
        path = schema_path(model)
        path.write_text(render(model), encoding="utf-8")
        print(f"wrote {path.relative_to(SCHEMA_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
