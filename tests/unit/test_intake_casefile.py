"""The case file's rules without a database: name folding and Polish order, possible
duplicates, household changes with the checks of an opening, transfers, the worklist."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from kooperacja.demo_data import pesel_for
from services.intake import casefile, finding
from services.intake.casefile import Household, Transfer, TransferState, WorkKind
from services.intake.domain import CaseStatus, Member
from shared.codes import Reason
from shared.errors import Conflict, InvalidInput, NotFound
from shared.teryt import terc

MIGRATION = Path(__file__).parents[2] / "services/intake/migrations/0010_case_file.sql"
TODAY = date(2026, 11, 23)
GMINA = terc().gmina("3201011")


def test_a_name_folds_without_case_or_diacritics() -> None:
    assert finding.fold("Żółkiewska") == finding.fold("ZOLKIEWSKA") == "zolkiewska"
    assert finding.fold("ŁĘCKA-Ćwikła") == "lecka-cwikla"
    assert finding.fold("Müller Dvořák") == "muller dvorak"


def test_the_database_folds_names_with_the_same_table() -> None:
    sql = MIGRATION.read_text()
    found = re.findall(
        r"translate\(translate\(\w+, '([^']+)',\s*'([^']+)'\),\s*'([^']+)', '([^']+)'\)", sql
    )
    assert len(found) == 2  # last and first names
    for diacritics, bases, upper, lower in found:
        assert (diacritics, bases) == (finding.DIACRITICS, finding.BASE_LETTERS)
        assert (upper, lower) == (finding.ASCII_UPPER, finding.ASCII_UPPER.lower())


def test_a_surname_search_matches_keys_starting_with_the_folded_term() -> None:
    low, high = finding.surname_range(" Żółk ")
    assert low == "zolk"
    assert low <= "zolkiewska" < high and not (low <= "zolnierz" < high)
    with pytest.raises(InvalidInput) as short:
        finding.surname_range("Ż")
    assert short.value.field == "surname"


def test_results_sort_in_polish_alphabetical_order() -> None:
    names = ["Żak", "Zając", "Łukasik", "Lis", "Ćwik", "Cis", "Ąbel", "Adam", "ślusarz"]
    assert sorted(names, key=finding.polish_sort_key) == [
        "Adam", "Ąbel", "Cis", "Ćwik", "Lis", "Łukasik", "ślusarz", "Zając", "Żak",
    ]  # fmt: skip


def test_a_search_needs_a_term_and_records_only_which_kinds_were_used() -> None:
    with pytest.raises(InvalidInput):
        finding.SearchTerms()
    assert finding.SearchTerms(surname="Nowak", pesel="79031412345").kinds == "surname+pesel"


def test_a_possible_duplicate_is_the_same_pesel_or_the_same_name_and_birth_date() -> None:
    born = date(1975, 6, 1)
    person = finding.Person(uuid4(), "Piotr", "Kowal", born, None)
    same_name = finding.ElsewhereCase("3201022", None, "piotr", "kowal", born)
    assert finding.matched_by(person, same_name) == "name_and_birth_date"
    other_day = finding.ElsewhereCase("3201022", None, "piotr", "kowal", date(1975, 6, 2))
    assert finding.matched_by(person, other_day) is None
    by_pesel = finding.Person(uuid4(), "", "", None, "75060112345")
    assert finding.matched_by(by_pesel, finding.ElsewhereCase(
        "3201022", "75060112345", "x", "y", None)) == "pesel"  # fmt: skip
    anonymised = finding.ElsewhereCase("3201022", None, "", "", born)
    assert finding.matched_by(finding.Person(uuid4(), "", "", born, None), anonymised) is None


def test_neighbours_are_the_other_gminas_of_the_powiat() -> None:
    codes = [g.code for g in terc().in_region("32")]
    assert finding.neighbours("3201011", codes) == ["3201022", "3201033", "3201043"]


def member(first: str, birth: date, sex: str = "F", pesel: str | None = None) -> Member:
    return Member(uuid4(), first, "Nowak", birth, sex, "head", pesel)


def household(*members: Member, status: CaseStatus = CaseStatus.OPENED) -> Household:
    return Household(uuid4(), GMINA, status, date(2026, 1, 5), (Reason.POVERTY,), members)


def test_a_member_joining_is_checked_as_at_an_opening_and_changes_the_counts() -> None:
    head = member("Anna", date(1980, 2, 3), pesel=pesel_for(date(1980, 2, 3), "F", 1))
    before = household(head)
    child = member("Ola", date(2016, 5, 5))
    after = casefile.add_member(before, child, TODAY)
    event = after.changed_event(before, TODAY)
    assert event is not None
    assert (event.household_size, event.age_bands) == (2, {"45-59": 1, "6-17": 1})
    assert event.reasons == [Reason.POVERTY] and event.place == GMINA.place
    with pytest.raises(InvalidInput) as wrong:
        casefile.add_member(before, member("Ola", date(2016, 5, 5), pesel="16250512345"), TODAY)
    assert wrong.value.field == "pesel"
    with pytest.raises(InvalidInput) as twice:
        casefile.add_member(before, member("Kopia", date(1980, 2, 3), pesel=head.pesel), TODAY)
    assert twice.value.code == "duplicate_pesel"
    with pytest.raises(InvalidInput) as unborn:
        casefile.add_member(before, member("Jutro", TODAY + timedelta(days=1)), TODAY)
    assert unborn.value.field == "birth_date"
    with pytest.raises(Conflict):
        casefile.add_member(household(head, status=CaseStatus.CLOSED), child, TODAY)


def test_a_member_leaving_is_kept_but_not_counted_and_the_last_cannot_leave() -> None:
    head, child = member("Anna", date(1980, 2, 3)), member("Ola", date(2016, 5, 5))
    before = household(head, child)
    after = casefile.member_left(before, child.person_id, TODAY, TODAY)
    assert len(after.members) == 2 and after.present == [head]
    event = after.changed_event(before, TODAY)
    assert event is not None and event.household_size == 1
    with pytest.raises(Conflict) as last:
        casefile.member_left(after, head.person_id, TODAY, TODAY)
    assert last.value.code == "last_member"
    with pytest.raises(NotFound):
        casefile.member_left(after, child.person_id, TODAY, TODAY)
    with pytest.raises(InvalidInput) as early:
        casefile.member_left(before, child.person_id, date(2025, 1, 1), TODAY)
    assert early.value.field == "left_on"


def test_a_correction_is_checked_and_counted_only_when_it_moves_a_figure() -> None:
    born = date(1980, 2, 3)
    head = member("Anna", born, pesel=pesel_for(born, "F", 2))
    before = household(head)
    renamed, _ = casefile.correct_member(before, head.person_id, {"first_name": "Hanna"}, TODAY)
    assert renamed.changed_event(before, TODAY) is None
    with pytest.raises(InvalidInput) as mismatch:
        casefile.correct_member(before, head.person_id, {"birth_date": date(1999, 1, 1)}, TODAY)
    assert mismatch.value.field == "pesel"
    older, corrected = casefile.correct_member(
        before, head.person_id, {"birth_date": date(1999, 1, 1), "pesel": None}, TODAY
    )
    assert corrected.pesel is None
    event = older.changed_event(before, TODAY)
    assert event is not None and event.age_bands == {"18-29": 1}
    revised = casefile.revise_reasons(before, [Reason.ADDICTION, Reason.POVERTY, Reason.POVERTY])
    event = revised.changed_event(before, TODAY)
    assert event is not None and event.reasons == [Reason.POVERTY, Reason.ADDICTION]


def test_a_transfer_goes_to_another_gmina_once_and_only_while_the_case_is_open() -> None:
    to = terc().gmina("3201022")
    casefile.request_transfer(CaseStatus.IN_SUPPORT, GMINA.code, to, None)
    with pytest.raises(InvalidInput):
        casefile.request_transfer(CaseStatus.OPENED, to.code, to, None)
    waiting = Transfer(uuid4(), uuid4(), GMINA.code, to.code, TransferState.REQUESTED)
    with pytest.raises(Conflict):
        casefile.request_transfer(CaseStatus.OPENED, GMINA.code, to, waiting)
    with pytest.raises(Conflict):
        casefile.request_transfer(CaseStatus.CLOSED, GMINA.code, to, None)
    event = casefile.accept_transfer(waiting, CaseStatus.OPENED, GMINA, to, TODAY)
    assert (event.place, event.from_place, event.transferred_on) == (to.place, GMINA.place, TODAY)
    with pytest.raises(NotFound):
        casefile.waiting_transfer(None, uuid4())


def test_the_worklist_shows_what_is_due_soonest_first() -> None:
    fresh, visited, asked = uuid4(), uuid4(), uuid4()
    cases = [
        casefile.CaseDue(fresh, TODAY - timedelta(days=20), None, None),
        casefile.CaseDue(visited, TODAY - timedelta(days=200), TODAY - timedelta(days=190),
                         TODAY - timedelta(days=190)),
        casefile.CaseDue(asked, TODAY - timedelta(days=3), TODAY - timedelta(days=3),
                         TODAY - timedelta(days=1), (TODAY + timedelta(days=4),
                                                     TODAY - timedelta(days=2))),
    ]  # fmt: skip
    items = casefile.due_work(cases, TODAY, horizon_days=7)
    assert [(i.case_id, i.kind, i.due_on, i.overdue) for i in items] == [
        (visited, WorkKind.INTERVIEW_UPDATE, TODAY - timedelta(days=8), True),
        (fresh, WorkKind.HOME_INTERVIEW, TODAY - timedelta(days=6), True),
        (asked, WorkKind.FOLLOW_UP, TODAY + timedelta(days=4), False),
    ]  # the follow-up of two days ago was followed by a note the day after
    assert casefile.HOME_INTERVIEW_DAYS == 14
