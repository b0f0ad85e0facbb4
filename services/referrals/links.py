"""The e-mailed link with which an institution without users answers one referral: signed,
expiring, good for that purpose only. The token holds a random link id, its expiry and its
purpose, and an HMAC-SHA256 of them under `KOOP_REFERRALS_LINK_SECRET`; which referral and
institution it answers for is kept server-side with the link id, so the token and the address
carry no personal data and no id of the family's case."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

VERSION = 1
PURPOSE_ANSWER_REFERRAL = 1
_PAYLOAD = struct.Struct(">BB16sq")  # version, purpose, link id, expiry (unix seconds)
_CONTEXT = b"kooperacja/referral-link\x00"


class LinkRefused(Exception):
    """The token is no link of ours: malformed, tampered with, of another purpose, expired."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Link:
    link_id: UUID
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or len(text) > 200 or any(c not in _ALPHABET for c in text):
        raise LinkRefused("link_invalid", "the link is not valid")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LinkRefused("link_invalid", "the link is not valid") from None


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _CONTEXT + payload, hashlib.sha256).digest()


def sign(secret: bytes, link_id: UUID, expires_at: datetime) -> str:
    payload = _PAYLOAD.pack(
        VERSION, PURPOSE_ANSWER_REFERRAL, link_id.bytes, int(expires_at.timestamp())
    )
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify(secret: bytes, token: str, now: datetime) -> Link:
    """The link a token names, once its signature, purpose and expiry hold."""
    if not secret:
        raise LinkRefused("link_invalid", "links are not enabled on this server")
    payload_text, dot, mac_text = token.partition(".")
    if not dot:
        raise LinkRefused("link_invalid", "the link is not valid")
    payload, mac = _unb64(payload_text), _unb64(mac_text)
    if not hmac.compare_digest(mac, _mac(secret, payload)) or len(payload) != _PAYLOAD.size:
        raise LinkRefused("link_invalid", "the link is not valid")
    version, purpose, link_id, expires = _PAYLOAD.unpack(payload)
    if version != VERSION or purpose != PURPOSE_ANSWER_REFERRAL:
        raise LinkRefused("link_invalid", "the link is not for answering a referral")
    expires_at = datetime.fromtimestamp(expires, UTC)
    if expires_at <= now:
        raise LinkRefused("link_expired", "the link has expired")
    return Link(UUID(bytes=link_id), expires_at)
