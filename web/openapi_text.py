"""What the OpenAPI document says of text: no NUL character (U+0000), as the server refuses it.

Every path segment and query parameter of the API, and every string and key of a merchant's or an
operator's JSON body, is refused with a 400 ``invalid-text`` when it holds a NUL (web/errors.py). The
pydantic models describe most of them as plain strings, so the document says it here: a string without a
pattern gets NUL_FREE, a pattern's ``\\S`` (outside brackets: patterns write ``[^\\s\\u0000]`` inside
them) reads "neither white space nor NUL", and an object's property names are NUL-free too.
"""

from __future__ import annotations

import copy
from typing import Any

NUL_FREE = "^[^\\u0000]*$"
NOT_SPACE = "\\S"
NOT_SPACE_NOR_NUL = "[^\\s\\u0000]"
# Operations whose whole JSON body is checked for NUL before anything else (body_json of web/api/merchants.py,
# _json_object of web/api/operators.py).
CHECKED_BODIES = {"merchants", "operators"}


def without_nul(document: dict[str, Any]) -> dict[str, Any]:
    """The document with NUL ruled out of the parameters and of the merchants' request bodies."""
    out = copy.deepcopy(document)
    components = out.get("components", {}).get("schemas", {})
    bodies: set[str] = set()
    for path, operations in out.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters") or []:
                if "schema" in parameter:
                    nul_free_strings(parameter["schema"])
            if CHECKED_BODIES & set(operation.get("tags") or []):
                for media in (operation.get("requestBody") or {}).get("content", {}).values():
                    bodies |= refs_from(media.get("schema", {}), components)
    for name in sorted(bodies):
        nul_free_text(components[name])
    return out


def refs_from(schema: Any, components: dict[str, Any]) -> set[str]:
    """The names of every component ``schema`` refers to, directly or through other components."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in found and name in components:
                    found.add(name)
                    stack.append(components[name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def nul_free_strings(schema: Any) -> None:
    """Rule NUL out of every free string in ``schema`` (in place): one without enum, const or format."""
    for node in nodes(schema):
        if node.get("type") != "string" or {"enum", "const", "format"} & node.keys():
            continue
        pattern = node.get("pattern")
        node["pattern"] = NUL_FREE if pattern is None else pattern.replace(NOT_SPACE, NOT_SPACE_NOR_NUL)


def nul_free_text(schema: Any) -> None:
    """Rule NUL out of every free string and every property name in ``schema`` (in place)."""
    nul_free_strings(schema)
    for node in nodes(schema):
        if node.get("type") == "object" or "properties" in node:
            node.setdefault("propertyNames", {"pattern": NUL_FREE})


def nodes(schema: Any) -> list[dict[str, Any]]:
    """Every schema object inside ``schema`` (itself included), not following references."""
    found: list[dict[str, Any]] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
