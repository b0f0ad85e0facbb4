"""The bulk import's rules without a database: how a stream becomes lines, how a line becomes a
case or a refusal, and how a chunk is decided against what is already there."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import uuid4

from kooperacja.demo_data import pesel_for
from services.intake.bulk_import import (
    MAX_LINE_BYTES,
    SHOWN,
    CaseLine,
    ImportReport,
    Known,
    LineError,
    lines_of,
    parse_line,
    triage,
)
from shared.errors import InvalidInput

GMINA = "0601032"
TODAY = date(2026, 11, 23)


async def collect(*chunks: bytes) -> list[tuple[int, bytes]]:
    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [item async for item in lines_of(stream())]


async def test_lines_are_numbered_across_any_split_and_blank_lines_count() -> None:
    body = b'{"a": 1}\n\n  \n{"b": "\xc5\xbc"}\r\n{"c": 3}'
    whole = await collect(body)
    assert whole == [(1, b'{"a": 1}'), (4, b'{"b": "\xc5\xbc"}\r'), (5, b'{"c": 3}')]
    for size in (1, 2, 3, 7):
        pieces = [body[i : i + size] for i in range(0, len(body), size)]
        assert await collect(*pieces) == whole


async def test_an_overlong_line_comes_empty_and_the_next_line_is_whole() -> None:
    long = b"x" * (MAX_LINE_BYTES + 10)
    got = await collect(b"{}\n", long[:1000], long[1000:], b"\n{}\n", long)
    assert got == [(1, b"{}"), (2, b""), (3, b"{}"), (4, b"")]
    assert isinstance(parse_line(2, b"", GMINA, TODAY), LineError)


def body(external_id: str, pesel: str | None = None, **fields: Any) -> bytes:
    birth = date(1990, 6, 1)
    return json.dumps(
        {
            "external_id": external_id,
            "gmina": GMINA,
            "members": [
                {
                    "first_name": "Ala",
                    "last_name": "Nowak",
                    "birth_date": birth.isoformat(),
                    "sex": "F",
                    "pesel": pesel or pesel_for(birth, "F", 1),
                }
            ],
            "reasons": ["1"],
            "notified_by": "self",
            "consent_to_share": True,
            **fields,
        }
    ).encode()


def parsed(external_id: str, line: int = 1, **fields: Any) -> CaseLine:
    result = parse_line(line, body(external_id, **fields), GMINA, TODAY)
    assert isinstance(result, CaseLine), result
    return result


def test_a_line_is_a_case_whose_digest_ignores_formatting() -> None:
    one = parsed("A1")
    spaced = parse_line(1, json.dumps(json.loads(body("A1")), indent=2).encode(), GMINA, TODAY)
    assert isinstance(spaced, CaseLine)
    assert spaced.digest == one.digest and spaced.case.case_id != one.case.case_id
    assert parsed("A1", reasons=["1", "2"]).digest != one.digest


def test_a_line_gets_the_domains_refusal_with_its_field() -> None:
    refused = parse_line(3, body("A1", pesel="90060100000"), GMINA, TODAY)
    assert isinstance(refused, LineError)
    problem = refused.problem()
    assert (problem.line, problem.code, problem.field) == (3, "invalid_pesel", "members[0].pesel")
    assert problem.external_id == "A1" and problem.status == 422


def test_a_line_naming_repealed_point_10_is_refused_saying_so() -> None:
    refused = parse_line(4, body("A10", reasons=["1", "10"]), GMINA, TODAY)
    assert isinstance(refused, LineError)
    problem = refused.problem()
    assert (problem.line, problem.field, problem.status) == (4, "reasons[1]", 422)
    assert "pkt 10" in problem.detail and "uchylony" in problem.detail
    statute = parsed("A13", reasons=["13", "15"])
    assert [str(r) for r in statute.case.reasons] == ["13", "15"]
    assert statute.case.opened_event().reasons_version == 2


def test_triage_tells_new_already_imported_conflicting_and_duplicate_lines() -> None:
    existing, earlier = uuid4(), uuid4()
    lines = [
        parsed("OLD", 1),
        parsed("OLD2", 2, reasons=["3"]),
        parsed("NEW", 3, pesel=pesel_for(date(1990, 6, 1), "F", 2)),
        parsed("NEW", 4, pesel=pesel_for(date(1990, 6, 1), "F", 2)),  # the same line again
        parsed("DUP", 5, pesel=pesel_for(date(1990, 6, 1), "F", 3)),
        parsed("DUP2", 6, pesel=pesel_for(date(1990, 6, 1), "F", 2)),  # the person of line 3
    ]
    known = {"OLD": Known(earlier, lines[0].digest), "OLD2": Known(uuid4(), "another digest")}
    chunk = triage(lines, known, {pesel_for(date(1990, 6, 1), "F", 3): existing})
    assert [item.line for item in chunk.new] == [3]
    assert [(a.line, a.case_id) for a in chunk.already] == [
        (1, earlier),
        (4, lines[2].case.case_id),
    ]
    assert [(e.line, e.error.code) for e in chunk.rejected] == [
        (2, "external_id_conflict"),
        (5, "duplicate_case"),
        (6, "duplicate_case"),
    ]
    assert str(existing) in chunk.rejected[1].error.detail


def test_the_report_counts_every_line_but_names_only_the_first() -> None:
    report = ImportReport(import_id=uuid4(), gmina=GMINA)
    for n in range(SHOWN + 5):
        report.refuse(LineError(n + 1, InvalidInput("malformed_json", "not JSON")))
    answer = report.answer()
    assert answer.rejected == SHOWN + 5 and len(answer.errors) == SHOWN
