"""What every area's bodies share: base models, pages, and encoding a response once."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
Id32 = Field(ge=1, le=2**31 - 1)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageOut(Out, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


def paged(rows: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """Build a page from ``limit + 1`` fetched rows (see ``queries.scope.page``)."""
    more = len(rows) > limit
    return {
        "items": rows[:limit],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


def encoded(model: type[BaseModel], data: Any) -> bytes:
    """Validate once and encode in pydantic-core; FastAPI would validate a returned dict again."""
    return model.model_validate(data).model_dump_json(by_alias=True).encode()


def json_response(body: bytes) -> Any:
    from fastapi.responses import Response

    return Response(body, media_type="application/json")


def fast_json(model: type[BaseModel], data: Any) -> Any:
    """The route keeps ``response_model`` for the OpenAPI schema; hot routes return this instead."""
    return json_response(encoded(model, data))
