"""The access reason as the audit log records it: UTF-8 headers, RFC 8187 ext-values, refusals."""

from __future__ import annotations

import pytest

from shared.access_reason import MAX_LENGTH, access_reason, decode_header, header_value
from shared.errors import InvalidInput

POLISH = "wizyta w środowisku: żółć, gęś, ŹDŹBŁO"


def as_starlette_reads(raw: bytes) -> str:
    """Starlette gives header values as Latin-1 text, one character a byte."""
    return raw.decode("latin-1")


def test_utf8_header_bytes_are_read_as_utf8() -> None:
    assert decode_header(as_starlette_reads(POLISH.encode())) == POLISH
    assert decode_header("monitoring") == "monitoring"


def test_an_rfc8187_ext_value_is_percent_decoded_utf8() -> None:
    assert decode_header("UTF-8''wizyta%20w%20%C5%9Brodowisku") == "wizyta w środowisku"
    assert decode_header("utf-8'pl'%C5%BC%C3%B3%C5%82%C4%87") == "żółć"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (as_starlette_reads("gęś".encode("cp1250")), "access_reason_not_utf8"),
        ("ISO-8859-2''g%EA%B6", "access_reason_charset"),
        ("UTF-8''%C5", "access_reason_not_utf8"),
    ],
)
def test_what_is_not_utf8_is_refused_never_guessed(raw: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_header(raw)
    assert (refused.value.code, refused.value.field) == (code, "X-Access-Reason")


def test_the_parameter_comes_first_and_a_reason_is_required_and_bounded() -> None:
    header = as_starlette_reads(POLISH.encode())
    assert access_reason(header, "umówienie wizyty") == "umówienie wizyty"
    assert access_reason(header, "  ") == POLISH
    for header, query in ((None, None), ("  ", None), (None, " ")):
        with pytest.raises(InvalidInput) as refused:
            access_reason(header, query)
        assert refused.value.code == "access_reason_required"
    # Counted in characters, not in the bytes a Polish letter takes on the wire.
    assert access_reason(as_starlette_reads(("ś" * MAX_LENGTH).encode()), None)
    with pytest.raises(InvalidInput):
        access_reason("x" * (MAX_LENGTH + 1), None)


def test_a_control_character_is_refused_once_decoded_not_before() -> None:
    # `ś` in UTF-8 is C5 9B: read as Latin-1 its second byte is a C1 control character, which
    # must not count against the text; a real control character does.
    assert access_reason(as_starlette_reads("środowisko".encode()), None) == "środowisko"
    for raw in ("wizyta\x01", "UTF-8''wizyta%00"):
        with pytest.raises(InvalidInput) as refused:
            access_reason(raw, None)
        assert refused.value.field == "X-Access-Reason"


def test_a_client_sends_a_polish_reason_in_ascii_and_it_reads_back_as_written() -> None:
    sent = header_value(POLISH)
    assert sent.isascii() and sent.startswith("UTF-8''")
    assert access_reason(sent, None) == POLISH
