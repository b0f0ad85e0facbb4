"""Why a person reads personal data: the `X-Access-Reason` header or the `reason` parameter,
written to the audit log as the person wrote it, Polish letters included.

An HTTP header value is bytes; Starlette hands it over read as Latin-1, one character a byte.
The header is UTF-8: those characters are turned back into the bytes sent and read as UTF-8, so
`wizyta w środowisku` sent as UTF-8 is stored as written, not as `wizyta w Å\x9brodowisku`.
A client that keeps its headers ASCII may send an RFC 8187 ext-value instead:
`UTF-8''wizyta%20w%20%C5%9Brodowisku`. Bytes that are not UTF-8 (a Latin-1 or Windows-1250
client) are refused with 422 naming the header, never guessed at; so is a control character
(shared/text.py) in the decoded text. The `reason` parameter is percent-encoded UTF-8 as every
query parameter is.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote, unquote_to_bytes

from fastapi import Header, Query

from shared.errors import InvalidInput
from shared.text import SingleLine, forbidden_character

FIELD = "X-Access-Reason"
MAX_LENGTH = 500
_DESCRIPTION = (
    "Why you read personal data, in UTF-8, or as an RFC 8187 ext-value "
    "(UTF-8''wizyta%20w%20%C5%9Brodowisku)."
)

ReasonHeader = Annotated[
    str | None,
    # Checked for length and characters once decoded: a Polish letter is two bytes on the wire,
    # and the second byte of `ś` read as Latin-1 is a control character.
    Header(alias=FIELD, max_length=6 * MAX_LENGTH, description=_DESCRIPTION),
]
ReasonQuery = Annotated[
    SingleLine | None,
    Query(alias="reason", max_length=MAX_LENGTH, description="Why you read personal data."),
]

# RFC 8187 ext-value: charset "'" [ language ] "'" value-chars (attr-char or pct-encoded).
_EXT_VALUE = re.compile(
    r"(?P<charset>[A-Za-z0-9!#$%&+\-^_`{}~]+)'(?P<language>[A-Za-z0-9\-]*)'"
    r"(?P<value>(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-Fa-f]{2})*)"
)


def header_value(reason: str) -> str:
    """The reason as an ASCII header value (RFC 8187), for a client such as httpx that sends
    header values in ASCII only: `wizyta w środowisku` → `UTF-8''wizyta%20w%20%C5%9Brodowisku`."""
    return "UTF-8''" + quote(reason, safe="")


def decode_header(raw: str) -> str:
    """The header's text: an RFC 8187 ext-value, or the UTF-8 its bytes are."""
    ext = _EXT_VALUE.fullmatch(raw.strip())
    if ext is not None:
        if ext["charset"].upper() != "UTF-8":
            raise InvalidInput(
                "access_reason_charset",
                f"nagłówek {FIELD} w postaci RFC 8187 musi być w UTF-8, nie {ext['charset']}",
                field=FIELD,
            )
        data = unquote_to_bytes(ext["value"])
    else:
        try:
            data = raw.encode("latin-1")
        except UnicodeEncodeError:  # already text beyond Latin-1: nothing to undo
            return raw
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "access_reason_not_utf8",
            f"nagłówek {FIELD} nie jest w UTF-8: wyślij go w UTF-8, w postaci RFC 8187 "
            "(UTF-8''...) albo jako parametr reason",
            field=FIELD,
        ) from exc


def access_reason(header: str | None, query: str | None, *, missing_field: str = FIELD) -> str:
    """The reason given (the parameter, or a body's field, first; then the header), required
    (else a 422 naming `missing_field`) and at most MAX_LENGTH characters."""
    if query is not None and query.strip():
        text, field = query.strip(), "reason"
    else:
        text, field = (decode_header(header) if header else "").strip(), FIELD
    if not text:
        raise InvalidInput(
            "access_reason_required",
            f"podaj powód dostępu do danych osobowych (nagłówek {FIELD} lub parametr reason)",
            field=missing_field,
        )
    if (problem := forbidden_character(text, multiline=False)) is not None:
        raise InvalidInput("validation_failed", problem, field=field)
    if len(text) > MAX_LENGTH:
        raise InvalidInput(
            "access_reason_too_long",
            f"powód ma najwyżej {MAX_LENGTH} znaków",
            field=field,
        )
    return text
