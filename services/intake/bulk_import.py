"""Bulk import of a gmina's case files from the software it moves from: which lines of an NDJSON
file open a case, which were imported before, which are refused and why. No I/O.

Each line is the body of POST /cases plus `external_id`, and passes exactly the rules of a single
opening (the same model, `CaseIn.new_case`, the same duplicate rule), so an import can never let
in what the API would refuse.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from pydantic import ValidationError

from services.intake import domain
from services.intake.domain import NewCase
from services.intake.schemas import AlreadyImported, ImportLine, ImportOut, LineProblem
from shared.errors import Conflict, DomainError, InvalidInput
from shared.http import field_path
from shared.text import forbidden_character

# A household is a few kilobytes; a line far longer is not a case file but a broken one.
MAX_LINE_BYTES = 256 * 1024
# The answer names this many refused (and already imported) lines; the counts cover them all.
SHOWN = 100


@dataclass(frozen=True)
class LineError:
    line: int
    error: DomainError
    external_id: str | None = None

    def problem(self) -> LineProblem:
        return LineProblem(
            line=self.line,
            external_id=self.external_id,
            type=f"urn:kooperacja:problem:{self.error.code}",
            title=self.error.title,
            status=self.error.status,
            code=self.error.code,
            detail=self.error.detail,
            field=self.error.field,
        )


@dataclass(frozen=True)
class CaseLine:
    """A line that passed every rule that needs no database: the case it would open."""

    line: int
    external_id: str
    digest: str  # of the parsed line: a re-run of the same file is recognised as such
    case: NewCase


@dataclass(frozen=True)
class Known:
    """A reference already imported in the gmina: its case and the digest of its line."""

    case_id: UUID
    digest: str


async def lines_of(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """Numbered lines (from 1) of a byte stream, never holding more than one line; blank lines
    are counted but not yielded, an overlong line comes as b"" followed by nothing of it."""
    number = 0
    pending = bytearray()
    overlong = False
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            number += 1
            if overlong:
                yield number, b""
            else:
                pending += chunk[start:end]
                if pending.strip():
                    yield number, bytes(pending)
            pending.clear()
            overlong = False
            start = end + 1
        if not overlong:
            pending += chunk[start:]
            if len(pending) > MAX_LINE_BYTES:
                overlong = True
                pending.clear()
    if overlong:
        yield number + 1, b""
    elif pending.strip():
        yield number + 1, bytes(pending)


def _first_error(exc: ValidationError) -> InvalidInput:
    error = exc.errors()[0]
    where = field_path(tuple(error["loc"])) if error["loc"] else None
    return InvalidInput("validation_failed", f"{where or 'line'}: {error['msg']}", field=where)


def parse_line(number: int, raw: bytes, gmina: str, today: date) -> CaseLine | LineError:
    """The case a line opens in `gmina`, or why it is refused (the first fault found)."""
    if not raw:
        return LineError(
            number,
            InvalidInput("line_too_long", f"a line is at most {MAX_LINE_BYTES} bytes"),
        )
    try:
        loaded = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return LineError(number, InvalidInput("malformed_json", f"the line is not JSON: {exc}"))
    external_id = loaded.get("external_id") if isinstance(loaded, dict) else None
    # Echoed in the report only when it is text the report can carry.
    printable = isinstance(external_id, str) and not forbidden_character(
        external_id, multiline=False
    )
    external_id = external_id if printable else None
    try:
        body = ImportLine.model_validate(loaded)
    except ValidationError as exc:
        return LineError(number, _first_error(exc), external_id)
    try:
        case = body.new_case(today)
    except DomainError as exc:
        return LineError(number, exc, external_id)
    if case.gmina.code != gmina:
        mismatch = InvalidInput(
            "gmina_mismatch",
            f"this import is into gmina {gmina}; the line names gmina {case.gmina.code}",
            field="gmina",
        )
        return LineError(number, mismatch, external_id)
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    return CaseLine(number, body.external_id, digest, case)


@dataclass
class Triage:
    """A chunk's lines sorted: cases to open, lines imported before, lines refused."""

    new: list[CaseLine] = field(default_factory=list)
    already: list[AlreadyImported] = field(default_factory=list)
    rejected: list[LineError] = field(default_factory=list)


def triage(
    lines: list[CaseLine], known: dict[str, Known], open_by_pesel: dict[str, UUID]
) -> Triage:
    """Decide a chunk in line order against what the database holds: `known` references of the
    gmina and its `open_by_pesel` cases (both updated with the chunk's own new cases, so a file
    repeating a line or a person meets the same rules as a second request would)."""
    out = Triage()
    for item in lines:
        case = item.case
        before = known.get(item.external_id)
        if before is not None:
            if before.digest == item.digest:
                out.already.append(
                    AlreadyImported(
                        line=item.line, external_id=item.external_id, case_id=before.case_id
                    )
                )
            else:
                conflict = Conflict(
                    "external_id_conflict",
                    f"external_id {item.external_id!r} was imported as case {before.case_id}"
                    " with other content; correct that case instead",
                    field="external_id",
                )
                out.rejected.append(LineError(item.line, conflict, item.external_id))
            continue
        gmina = case.gmina.code
        duplicate = domain.duplicate_case(gmina, [m.pesel for m in case.members], open_by_pesel)
        if duplicate is not None:
            out.rejected.append(LineError(item.line, duplicate, item.external_id))
            continue
        out.new.append(item)
        known[item.external_id] = Known(case.case_id, item.digest)
        open_by_pesel.update({m.pesel: case.case_id for m in case.members if m.pesel})
    return out


@dataclass
class ImportReport:
    """What an import did so far; its answer names the first SHOWN lines of each kind."""

    import_id: UUID
    gmina: str
    lines: int = 0
    imported: int = 0
    already_imported: int = 0
    rejected: int = 0
    errors: list[LineProblem] = field(default_factory=list)
    already: list[AlreadyImported] = field(default_factory=list)

    def refuse(self, error: LineError) -> None:
        self.rejected += 1
        if len(self.errors) < SHOWN:
            self.errors.append(error.problem())

    def add(self, chunk: Triage) -> None:
        self.imported += len(chunk.new)
        self.already_imported += len(chunk.already)
        self.already.extend(chunk.already[: max(0, SHOWN - len(self.already))])
        for error in chunk.rejected:
            self.refuse(error)

    def answer(self) -> ImportOut:
        return ImportOut(
            import_id=self.import_id,
            gmina=self.gmina,
            lines=self.lines,
            imported=self.imported,
            already_imported=self.already_imported,
            rejected=self.rejected,
            errors=sorted(self.errors, key=lambda e: e.line),
            already=self.already,
        )
