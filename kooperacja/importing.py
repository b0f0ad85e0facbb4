"""`kooperacja import-cases FILE --gmina G`: stream an NDJSON file of case files to intake's
bulk import and print what came of it. It speaks to intake over HTTP only."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from shared.settings import Settings

READ_BYTES = 256 * 1024


def _chunks(path: Path) -> Iterator[bytes]:
    # Read as sent: the file is never whole in memory, here or in intake.
    with path.open("rb") as f:
        while chunk := f.read(READ_BYTES):
            yield chunk


def send(
    settings: Settings, path: Path, gmina: str, token: str, key: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    if key:
        headers["Idempotency-Key"] = key
    return httpx.post(
        f"{settings.base_url('intake')}/api/v1/cases/import",
        params={"gmina": gmina},
        content=_chunks(path),
        headers=headers,
        timeout=httpx.Timeout(30, read=None),  # a large file's answer comes at its end
    )


def render(result: dict[str, Any]) -> str:
    lines = [
        f"import {result['import_id']} into gmina {result['gmina']}: {result['lines']} lines, "
        f"{result['imported']} imported, {result['already_imported']} already imported, "
        f"{result['rejected']} rejected"
    ]
    for error in result["errors"]:
        where = f" ({error['field']})" if error.get("field") else ""
        ref = f" [{error['external_id']}]" if error.get("external_id") else ""
        lines.append(f"  line {error['line']}{ref}: {error['code']}{where}: {error['detail']}")
    if result["rejected"] > len(result["errors"]):
        lines.append(f"  … and {result['rejected'] - len(result['errors'])} more rejected lines")
    return "\n".join(lines)


def run(settings: Settings, path: Path, gmina: str, token: str, key: str | None) -> int:
    """0 when every line is in (imported now or before), 1 when some were rejected, 2 when the
    import as a whole was refused or intake could not be reached."""
    try:
        response = send(settings, path, gmina, token, key)
    except httpx.HTTPError as exc:
        print(f"intake unreachable: {exc}", file=sys.stderr)
        return 2
    if response.status_code != 200:
        print(f"import refused ({response.status_code}): {response.text}", file=sys.stderr)
        return 2
    result = response.json()
    print(render(result))
    return 1 if result["rejected"] else 0
