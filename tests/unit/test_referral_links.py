"""The e-mailed link's token: signed, expiring, of one purpose, with no personal data in it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.referrals import links
from services.referrals.institution_links import referral_mail

SECRET = b"a-secret-of-at-least-thirty-two-bytes!!"
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_a_signed_link_verifies_until_it_expires() -> None:
    link_id = uuid4()
    token = links.sign(SECRET, link_id, NOW + timedelta(days=1))
    assert links.verify(SECRET, token, NOW).link_id == link_id
    with pytest.raises(links.LinkRefused) as refused:
        links.verify(SECRET, token, NOW + timedelta(days=2))
    assert refused.value.code == "link_expired"


@pytest.mark.parametrize("position", [0, 5, 20, -1, -5])
def test_a_tampered_link_is_refused(position: int) -> None:
    token = links.sign(SECRET, uuid4(), NOW + timedelta(days=1))
    index = position % len(token)
    flipped = "A" if token[index] != "A" else "B"
    tampered = token[:index] + flipped + token[index + 1 :]
    with pytest.raises(links.LinkRefused) as refused:
        links.verify(SECRET, tampered, NOW)
    assert refused.value.code == "link_invalid"


def test_another_secret_purpose_or_garbage_is_refused() -> None:
    token = links.sign(SECRET, uuid4(), NOW + timedelta(days=1))
    for secret, candidate in [
        (b"another-secret-of-thirty-two-bytes!!!!!", token),
        (b"", token),
        (SECRET, ""),
        (SECRET, "no-dot"),
        (SECRET, "a.b.c"),
        (SECRET, "€€€.€€€"),
        (SECRET, "x" * 500 + "." + "y"),
    ]:
        with pytest.raises(links.LinkRefused):
            links.verify(secret, candidate, NOW)
    # A valid signature over a payload of another purpose is refused too.
    payload = links._PAYLOAD.pack(1, 2, uuid4().bytes, int((NOW + timedelta(days=1)).timestamp()))
    other = f"{links._b64(payload)}.{links._b64(links._mac(SECRET, payload))}"
    with pytest.raises(links.LinkRefused):
        links.verify(SECRET, other, NOW)


def test_the_token_holds_a_random_id_expiry_and_purpose_only() -> None:
    link_id = uuid4()
    token = links.sign(SECRET, link_id, NOW + timedelta(days=1))
    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert len(payload) == 1 + 1 + 16 + 8 and link_id.bytes in payload


def test_the_referral_email_names_no_one() -> None:
    message = referral_mail(
        "3F2A-9C1B", "https://k.example/odpowiedz/TOKEN", NOW, NOW + timedelta(days=120)
    )
    assert "3F2A-9C1B" in message.subject and "https://k.example/odpowiedz/TOKEN" in message.body
    assert "29.11.2026" in message.body
