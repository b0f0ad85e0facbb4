"""`kooperacja token` signs only tokens the services would take, and says why not otherwise."""

from __future__ import annotations

import argparse

import pytest

from kooperacja.cli import cmd_token
from shared.auth import decode_token
from shared.settings import get_settings


def _args(role: str, **scope: str) -> argparse.Namespace:
    base = {"gmina": None, "powiat": None, "region": None, "institution": None}
    return argparse.Namespace(role=role, subject="ala", hours=1, **{**base, **scope})


def test_a_token_is_printed_for_a_row_of_the_claims_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cmd_token(_args("coordinator", powiat="0601")) == 0
    token = capsys.readouterr().out.strip()
    assert decode_token(token, get_settings()).powiat == "0601"


@pytest.mark.parametrize(
    ("role", "scope"),
    [("analyst", {"gmina": "0601032"}), ("coordinator", {"region": "06,14"}),
     ("caseworker", {"gmina": "%"}), ("institution_staff", {"institution": "123"})],
)  # fmt: skip
def test_claims_the_role_does_not_take_print_no_token(
    role: str, scope: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cmd_token(_args(role, **scope)) == 2
    out = capsys.readouterr()
    assert out.out == "" and "claim" in out.err
