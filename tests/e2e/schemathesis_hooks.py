"""Loaded by schemathesis (SCHEMATHESIS_HOOKS): how to put an NDJSON body on the wire, which it
cannot do on its own, so that intake's bulk import is fuzzed like every other operation; and
control characters and lone surrogates put into one string of a generated body or query, which
the schema allows but no free-text field may take (422, never a 5xx)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import strategies as st

# NUL, other C0 controls, DEL, a C1 control, and (in JSON only: a URL cannot carry one) a lone
# surrogate.
CONTROL = ["\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85", "\t", "\n"]
SURROGATES = ["\ud800", "\udfff"]


@schemathesis.serializer("application/x-ndjson", "application/jsonl")
def ndjson(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    # A generated string is the file itself; anything else is sent as one JSON line.
    # A lone surrogate goes out as the bytes a careless encoder writes (not UTF-8).
    return (
        value.encode("utf-8", "surrogatepass")
        if isinstance(value, str)
        else json.dumps(value).encode()
    )


def _strings(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of the string leaves of a JSON value."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _strings(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _strings(v, (*path, i))]
    return []


def _with(value: Any, path: tuple[Any, ...], char: str) -> Any:
    if not path:
        return value[:1] + char + value[1:]
    head, *rest = path
    copied = dict(value) if isinstance(value, dict) else list(value)
    copied[head] = _with(value[head], tuple(rest), char)
    return copied


def _one_string_spoilt(value: Any, chars: list[str]) -> st.SearchStrategy[Any]:
    paths = _strings(value)
    if not paths:
        return st.just(value)
    spoilt = st.tuples(st.sampled_from(paths), st.sampled_from(chars)).map(
        lambda pc: _with(value, pc[0], pc[1])
    )
    return st.one_of(st.just(value), spoilt)


@schemathesis.hook
def flatmap_body(ctx: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    return _one_string_spoilt(body, CONTROL + SURROGATES)


@schemathesis.hook
def flatmap_query(ctx: schemathesis.HookContext, query: Any) -> st.SearchStrategy[Any]:
    return _one_string_spoilt(query, CONTROL) if isinstance(query, dict) else st.just(query)


@schemathesis.hook
def filter_body(ctx: schemathesis.HookContext, body: Any) -> bool:
    # An NDJSON file is any text: a body of another type, written as one JSON line, is a file
    # whose one line is refused (200 with the line rejected), not a request off the schema.
    operation = ctx.operation
    return not (
        operation is not None
        and operation.path.endswith("/cases/import")
        and not isinstance(body, str)
    )
