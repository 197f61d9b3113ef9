"""The OpenAPI 3.1 document, generated from the views by spectree (served at /api/openapi.json).

Views are decorated with ``spec.validate(..., skip_validation=True)``: spectree documents them from the
pydantic models in web/schemas.py, while the views validate input themselves so that every error is a
problem+json naming the item and field at fault.
"""

from __future__ import annotations

from spectree import SecurityScheme, SpecTree

spec = SpecTree(
    "flask",
    title="Silkway API",
    version="v1",
    path="api",
    filename="openapi.json",
    mode="strict",
    annotations=False,
    security_schemes=[
        SecurityScheme(name="bearer", data={"type": "http", "scheme": "bearer"}),
    ],
    description="Parcel tracking and delivery-time prediction for the China to Russia corridor.",
)

BEARER = {"bearer": []}
