"""JSON Schemas of the content files, from the pydantic models, for YAML editors to complete and check."""
from __future__ import annotations

from typing import Any

from brief.content import model as m
from brief.content.vocabulary import VocabularyFile

_DATE = {"type": ["string", "integer"], "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
         "description": "A date to the year, month or day: YYYY, YYYY-MM or YYYY-MM-DD."}
_ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}
# Shorthands the loader accepts: a citation as just the source id, a section as just its kind,
# a vocabulary word as just its key.
_SHORT = {"Citation": _ID, "Section": {"type": "string"}, "Word": {"type": "string"}}

SCHEMA_DIR = "schema"
_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def file_models() -> dict[str, type[m.Strict]]:
    """Return {content file pattern: its model}, audiences and the vocabulary included."""
    found: dict[str, type[m.Strict]] = {name: cls for name, cls, _ in m.FILES}
    found["vocabulary.yaml"] = VocabularyFile
    found["audiences/NAME.yaml"] = m.Audience
    return found


def schema_name(file: str) -> str:
    """Return the schema file for a content file: 'pack.yaml' -> 'pack.schema.json'."""
    return file.replace("audiences/NAME.yaml", "audience.yaml").removesuffix(".yaml") + ".schema.json"


def schemas() -> dict[str, dict[str, Any]]:
    """Return {schema file name: JSON Schema} for every content file."""
    out = {}
    for file, cls in file_models().items():
        schema = cls.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"brief: content/{file}"
        out[schema_name(file)] = _as_written(schema)
    return out


def _as_written(node: Any) -> Any:
    """Rewrite the schema for what authors type: dates as text, shorthands next to full mappings."""
    if isinstance(node, list):
        return [_as_written(x) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "")
    name = ref.rsplit("/", 1)[-1] if ref.startswith("#/$defs/") else None
    if name == "PartialDate":
        return dict(_DATE)
    if name in _SHORT:
        return {"anyOf": [_SHORT[name], {"$ref": ref}]}
    items = node.get("items")
    if node.get("type") == "array" and isinstance(items, dict) and str(items.get("$ref", "")).endswith("/PartialDate"):
        return {"anyOf": [dict(_DATE), {"type": "array", "items": dict(_DATE)}]}
    # Bounds on annotated numbers come out as pydantic's own ge/le: write them as JSON Schema's.
    renamed = {_BOUNDS.get(k, k): v for k, v in node.items()}
    return {k: _as_written(v) for k, v in renamed.items()}
