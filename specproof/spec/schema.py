"""The JSON Schema editors validate spec files with, generated from the model.

The model is the source of truth; the schema file is derived, committed next
to the specs, and checked by `lint` so it cannot drift from the model.
"""

from __future__ import annotations

import json
from pathlib import Path

from .model import Spec
from .yamlio import SCHEMA_FILE


def schema_text() -> str:
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "specproof spec"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(folder: Path) -> Path:
    """Write `folder/schema.json` when its content changes."""
    path = folder / SCHEMA_FILE
    text = schema_text()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path
