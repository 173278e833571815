"""Decode and validate batches of readings, a whole batch at a time.

A batch is validated in one call of a pydantic-core validator (straight from the JSON bytes when
it came as bytes). Only when that fails is it split: each bad item gets its own reason (the first
error of that item) and the good ones are validated again together, so a batch with one bad item
costs about two fast passes, never one slow pass per item.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pydantic_core
from pydantic import TypeAdapter, ValidationError

from anbao.core.errors import Invalid
from anbao.sensing.schemas import ReadingItem

ITEMS: TypeAdapter[list[ReadingItem]] = TypeAdapter(list[ReadingItem])
_SHAPE_MSG = 'body must be a JSON array of readings or {"readings": [...]}'


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is decoded and stored.

    A batch makes thousands of short-lived dicts and tuples that hold no reference cycles; each
    collection they trigger walks every tracked object of the process, which cost about 15% of the
    ingest time. The collector is enabled again afterwards if it was enabled before.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Decoded:
    """Valid items with their position in the batch, and the reasons of the bad ones."""

    items: list[tuple[int, ReadingItem]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0

    def reject(self, index: int, loc: list[str | int], msg: str) -> None:
        self.rejected.append({"index": index, "loc": loc, "msg": msg})


@dataclass(frozen=True)
class BadLine:
    """An NDJSON line that is not JSON, kept so that it is rejected at its position."""

    text: str


def _message(err: Any) -> str:
    return str(err["msg"]).removeprefix("Value error, ")


def validate(items: Sequence[Any]) -> Decoded:
    """Validate Python items (dicts as parsed from JSON); bad items are listed, not raised."""
    out = Decoded(size=len(items))
    plain = list(items)
    try:
        out.items = list(enumerate(ITEMS.validate_python(plain)))
        return out
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
    first: dict[int, Any] = {}
    for err in errors:
        loc = err["loc"]
        if loc and isinstance(loc[0], int) and loc[0] not in first:
            first[loc[0]] = err
    for i, raw in enumerate(plain):
        if isinstance(raw, BadLine):
            first.pop(i, None)
            out.reject(i, ["body", i], f"line is not JSON: {raw.text!r}")
    for i in sorted(first):
        err = first[i]
        out.reject(i, ["body", *err["loc"]], _message(err))
    bad = {r["index"] for r in out.rejected}
    good = [i for i in range(len(plain)) if i not in bad]
    try:
        out.items = list(zip(good, ITEMS.validate_python([plain[i] for i in good]), strict=True))
    except ValidationError:  # cannot happen for items that passed above; check them one by one anyway
        for i in good:
            try:
                out.items.append((i, ITEMS.validate_python([plain[i]])[0]))
            except ValidationError as exc:
                err = exc.errors()[0]
                out.reject(i, ["body", i, *err["loc"][1:]], _message(err))
    out.rejected.sort(key=lambda r: r["index"])
    return out


def _json(body: bytes | str) -> Any:
    try:
        return pydantic_core.from_json(body)
    except ValueError as exc:
        raise Invalid(f"body is not JSON: {exc}", loc=["body"]) from exc


def unwrap(data: Any) -> list[Any]:
    """The readings of a parsed JSON body: the array itself, or the array under ``readings``."""
    if isinstance(data, dict) and isinstance(data.get("readings"), list):
        return list(data["readings"])
    if not isinstance(data, list):
        raise Invalid(_SHAPE_MSG, loc=["body"])
    return data


def decode_json(body: bytes) -> Decoded:
    """A JSON array of readings or ``{"readings": [...]}``; raises :class:`Invalid` for anything else."""
    if body[:64].lstrip()[:1] == b"[":
        try:
            valid = ITEMS.validate_json(body)
            return Decoded(items=list(enumerate(valid)), size=len(valid))
        except ValidationError:
            pass  # a bad item, or not JSON at all: parse, then look at each item
    return validate(unwrap(_json(body)))


def decode_ndjson(body: bytes) -> Decoded:
    """One JSON object per line; blank lines are skipped, a line that is not JSON is rejected by itself."""
    lines = [line for line in body.splitlines() if line.strip()]
    if not lines:
        return Decoded()
    try:
        valid = ITEMS.validate_json(b"[" + b",".join(lines) + b"]")
        return Decoded(items=list(enumerate(valid)), size=len(valid))
    except ValidationError:
        pass
    items: list[Any] = []
    for line in lines:
        try:
            items.append(pydantic_core.from_json(line))
        except ValueError:
            items.append(BadLine(line.decode("utf-8", errors="replace")[:80]))
    return validate(items)


def is_ndjson(content_type: str) -> bool:
    ct = content_type.lower()
    return "ndjson" in ct or "jsonl" in ct


def decode_body(body: bytes, content_type: str) -> Decoded:
    """An HTTP body: NDJSON when the content type says so, else JSON."""
    return decode_ndjson(body) if is_ndjson(content_type) else decode_json(body)


def parse_body(body: bytes, content_type: str) -> list[Any]:
    """The items of a body as Python values (NDJSON lines that are not JSON become :class:`BadLine`)."""
    if is_ndjson(content_type):
        items: list[Any] = []
        for line in body.splitlines():
            if line.strip():
                try:
                    items.append(pydantic_core.from_json(line))
                except ValueError:
                    items.append(BadLine(line.decode("utf-8", errors="replace")[:80]))
        return items
    return unwrap(_json(body))
