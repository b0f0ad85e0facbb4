"""Loaded by schemathesis (SCHEMATHESIS_HOOKS): how to put an NDJSON body on the wire, which it
cannot do on its own, so that intake's bulk import is fuzzed like every other operation."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson", "application/jsonl")
def ndjson(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    # A generated string is the file itself; anything else is sent as one JSON line.
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()
