"""`kooperacja token` without --subject names each role and scope as its own reader."""

from __future__ import annotations

from uuid import uuid4

import pytest

from kooperacja import cli
from shared.auth import decode_token
from shared.settings import get_settings


def token_subject(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main(["token", *argv])
    assert exited.value.code == 0
    return decode_token(capsys.readouterr().out.strip(), get_settings()).subject


def test_each_role_and_scope_gets_its_own_subject(capsys: pytest.CaptureFixture[str]) -> None:
    clinic = str(uuid4())
    subjects = [
        token_subject(capsys, "caseworker", "--gmina", "0601042"),
        token_subject(capsys, "coordinator", "--gmina", "0601042"),
        token_subject(capsys, "coordinator", "--gmina", "0601062"),
        token_subject(capsys, "coordinator", "--powiat", "0601"),
        token_subject(capsys, "analyst", "--region", "06"),
        token_subject(capsys, "institution_staff", "--institution", clinic),
    ]
    assert len(set(subjects)) == len(subjects)
    assert "local-user" not in subjects
    assert subjects[1] == "local-coordinator-gmina-0601042"
    assert subjects[5] == f"local-institution_staff-institution-{clinic}"
    # The same person asking again is the same reader.
    assert token_subject(capsys, "coordinator", "--gmina", "0601042") == subjects[1]
    assert token_subject(capsys, "coordinator", "--subject", "anna.nowak") == "anna.nowak"
