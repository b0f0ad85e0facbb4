"""Problem details (RFC 9457) from the APIs turned into what a form shows: a message next to
each field at fault and the same messages in the error summary at the top, linking to the field
(the GOV.UK pattern). The APIs' `detail` is for programs (English); people read Polish, chosen
here by the problem's stable `code` or, for a schema error, by its type."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# What a person reads for a problem code; the field says where.
BY_CODE: dict[str, str] = {
    "invalid_pesel": "Numer PESEL jest nieprawidłowy — sprawdź cyfry.",
    "pesel_birth_date_mismatch": "Numer PESEL nie zgadza się z datą urodzenia.",
    "pesel_sex_mismatch": "Numer PESEL nie zgadza się z płcią.",
    "duplicate_pesel": "Ten sam numer PESEL wpisano dwa razy.",
    "duplicate_case": "Ta osoba ma już otwartą sprawę w tej gminie.",
    "birth_date_in_future": "Data urodzenia nie może być w przyszłości.",
    "no_members": "Dodaj co najmniej jednego członka gospodarstwa domowego.",
    "no_reasons": "Wybierz co najmniej jeden powód przyznania pomocy.",
    "consent_required": "Zaznacz, czy rodzina zgadza się na udostępnienie danych w PZK.",
    "consent_contradiction": "Podano datę zgody, choć rodzina nie wyraziła zgody.",
    "consent_in_future": "Data zgody nie może być w przyszłości.",
    "consent_given_on_out_of_range": "Data zgody musi przypadać między otwarciem sprawy a dziś.",
    "consent_already_given": "Zgoda na udostępnienie danych jest już zapisana w tej sprawie.",
    "case_closed": "Sprawa jest zamknięta — najpierw ją wznów.",
    "consent_withdrawn_on_out_of_range": "Data cofnięcia musi przypadać między dniem zgody a dziś.",
    "no_consent": "Bez zgody rodziny na udostępnienie danych sprawa nie trafi do diagnozy PZK.",
    "invalid_transition": "Tego kroku nie można wykonać przy obecnym stanie sprawy.",
    "closed_on_out_of_range": "Data zamknięcia musi przypadać między otwarciem sprawy a dziś.",
    "access_reason_required": "Podaj powód wglądu w dane osobowe.",
    "out_of_scope": "Ta sprawa należy do innej gminy — nie masz do niej dostępu.",
    "role_not_allowed": "Twoja rola nie pozwala na tę czynność.",
    "case_not_found": "Nie ma takiej sprawy.",
    "gmina_required": "Wskaż gminę.",
    "empty_period": "Data początkowa jest późniejsza niż końcowa.",
    "no_search_terms": "Podaj nazwisko lub numer PESEL.",
    "period_reversed": "Data początkowa jest późniejsza niż końcowa.",
    "date_in_future": "Data nie może być w przyszłości.",
    # the partnership (G-PZK) and its meetings
    "signed_in_future": "Porozumienie nie może być podpisane w przyszłości.",
    "valid_before_signing": "Porozumienie nie może obowiązywać przed dniem podpisania.",
    "valid_until_before_from": "Koniec okresu porozumienia nie może poprzedzać jego początku.",
    "party_twice": "Instytucja jest wymieniona dwa razy.",
    "not_a_partnership_member": "Ta instytucja nie należy do partnerstwa gminy.",
    "already_a_member": "Ta instytucja już należy do partnerstwa.",
    "joined_before_left": "Ponowne przystąpienie nie może poprzedzać wystąpienia.",
    "left_before_joined": "Wystąpienie nie może poprzedzać przystąpienia.",
    "role_held": "Instytucja pełni rolę w partnerstwie — najpierw przekaż ją innemu członkowi.",
    "adviser_not_rops": "Doradca ds. modelu pochodzi z regionalnego ośrodka polityki społecznej.",
    "not_a_representative": "Wskaż aktualnego przedstawiciela tej instytucji.",
    "member_twice": "Instytucja jest wymieniona dwa razy.",
    "attended_twice": "Instytucja jest wymieniona dwa razy.",
    "case_required": "Ustalenie dotyczy sprawy — podaj jej numer.",
    "institution_required": "Podaj instytucję, do której zespół kieruje.",
    "institution_not_expected": "Instytucję podaje się tylko przy skierowaniu.",
    "partnership_not_found": "Partnerstwo gminy nie zostało jeszcze zawiązane.",
    "not_the_gminas_coordinator": "Partnerstwo gminy zmienia tylko jej koordynator.",
    "date_before_agreement": "Data nie może być wcześniejsza niż uzgodnienie planu.",
    "due_before_plan": "Termin realizacji nie może być wcześniejszy niż uzgodnienie planu.",
    "review_out_of_range": "Przegląd musi przypadać między uzgodnieniem planu a terminem.",
    "not_in_partnership": "Ta instytucja nie należy do zespołu PZK tej gminy.",
    "unknown_recommendation": "To wsparcie nie jest już rekomendowane w diagnozie.",
    "support_in_two_goals": "To wsparcie jest już przypisane do innego celu.",
    "need_not_assessed": "Tego obszaru potrzeb nie wskazano w diagnozie.",
    "no_goals": "Plan musi mieć co najmniej jeden cel.",
    "plan_exists": "Plan (IPW) jest już uzgodniony.",
    "diagnosis_not_completed": "Plan można uzgodnić dopiero po zakończeniu diagnozy.",
    "household_too_large": "Gospodarstwo domowe może liczyć najwyżej 30 osób.",
    "last_member": "To ostatnia osoba w gospodarstwie — zamknij sprawę zamiast tego.",
    "left_on_out_of_range": "Data odejścia musi przypadać między otwarciem sprawy a dziś.",
    "member_not_found": "Tej osoby nie ma już w gospodarstwie domowym.",
    "nothing_to_correct": "Wpisz, co poprawić.",
    "birth_date_required": "Podaj datę urodzenia.",
    "value_required": "To pole jest wymagane.",
    "conducted_on_in_future": "Data wywiadu nie może być w przyszłości.",
    "noted_on_in_future": "Data notatki nie może być w przyszłości.",
    "follow_up_before_note": "Termin dalszych działań nie może być wcześniejszy niż notatka.",
    "follow_up_too_early": "Za wcześnie na tę kontrolę (zapisuje się ją od 14 dni przed terminem).",
    "case_not_closed": "Kontrolę sytuacji rodziny zapisuje się po zamknięciu sprawy.",
    "recorded_on_in_future": "Data kontroli nie może być w przyszłości.",
    "months_unknown": "Wybierz kontrolę po 3 albo po 6 miesiącach.",
    "held_before_start": "Spotkanie nie może być wcześniejsze niż początek zajęć.",
    "held_on_in_future": "Spotkanie zapisuje się po tym, jak się odbyło.",
    "minutes_out_of_range": "Czas spotkania: od 15 minut do 12 godzin.",
    "started_on_too_far": "Zajęcia można zaplanować najwyżej rok naprzód.",
    "activity_unknown": "Tych zajęć nie ma jeszcze w ewidencji spraw — spróbuj za chwilę.",
    "activity_of_other_gmina": "Te zajęcia prowadzi zespół innej gminy.",
    "not_a_member": "Ta osoba nie należy do gospodarstwa domowego sprawy.",
    "round_open": "Poprzednia runda ankiety jest jeszcze otwarta — najpierw ją zamknij.",
    "round_closed": "Ta runda ankiety jest już zamknięta.",
    "no_representatives": "Zespół nie ma przedstawicieli instytucji, których można zapytać.",
    "already_answered": "Na tę rundę ankiety już odpowiedziano.",
    "question_unanswered": "Odpowiedz na każde pytanie.",
    "answer_out_of_scale": "Wybierz odpowiedź od 1 do 5.",
    "transfer_to_same_gmina": "Sprawa jest już w tej gminie — wybierz inną gminę.",
    "transfer_waiting": "Sprawa czeka już na przyjęcie przez inną gminę.",
    "no_transfer_waiting": "Ta sprawa nie czeka już na przekazanie.",
    "unknown_teryt": "Wybierz gminę z listy.",
    "empty_revision": "Rewizja niczego nie zmienia — zmień cel, wsparcie albo termin.",
    "unknown_goal": "Tego celu nie ma już w planie.",
    "goal_not_found": "Tego celu nie ma już w planie.",
    "plan_not_found": "Ta diagnoza nie ma jeszcze uzgodnionego planu (IPW).",
}

# A schema error (422 validation_failed) by pydantic's error type.
BY_TYPE: dict[str, str] = {
    "missing": "To pole jest wymagane.",
    "string_too_short": "To pole jest wymagane.",
    "string_too_long": "Tekst jest za długi.",
    "string_pattern_mismatch": "Wartość ma nieprawidłowy format.",
    "date_from_datetime_parsing": "Podaj datę w postaci dd.mm.rrrr.",
    "date_parsing": "Podaj datę w postaci dd.mm.rrrr.",
    "date_type": "Podaj datę w postaci dd.mm.rrrr.",
    "value_error": "Wartość jest nieprawidłowa.",
    "enum": "Wybierz jedną z podanych możliwości.",
    "literal_error": "Wybierz jedną z podanych możliwości.",
    "too_short": "Wybierz co najmniej jedną możliwość.",
    "int_parsing": "Podaj liczbę.",
}
# Fields whose pattern error deserves a plainer word than "format".
BY_FIELD_PATTERN: dict[str, str] = {
    "pesel": "Numer PESEL ma 11 cyfr.",
    "phone": "Podaj numer telefonu, np. +48 600 100 200.",
    "email": "Podaj adres e-mail, np. jan@example.pl.",
}
GENERIC = "Wartość jest nieprawidłowa."


def field_id(path: str) -> str:
    """The HTML id of the control for an API field path: members[0].pesel -> members-0-pesel."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", path.replace("[", "-").replace("]", "")).strip("-")


@dataclass
class FormErrors:
    """Messages by control id, in the order the summary lists them."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(field_id(path), message)

    def get(self, control_id: str) -> str | None:
        return self.fields.get(control_id)


def _message(code: str, error_type: str | None, path: str) -> str:
    if code in BY_CODE:
        return BY_CODE[code]
    last = path.rsplit(".", 1)[-1]
    if error_type == "string_pattern_mismatch" and last in BY_FIELD_PATTERN:
        return BY_FIELD_PATTERN[last]
    return BY_TYPE.get(error_type or "", GENERIC)


def from_problem(
    problem: dict[str, Any], known: set[str] | None = None, rename: dict[str, str] | None = None
) -> FormErrors:
    """Every error of a problem placed at its field; `rename` maps an API path to the form's
    control path where they differ, and a field the form does not show goes to the summary
    alone (so no message is lost)."""
    errors = FormErrors()
    code = str(problem.get("code", ""))
    items = problem.get("errors") or [
        {"field": problem.get("field") or "", "type": None, "message": problem.get("detail")}
    ]
    for item in items:
        path = str(item.get("field") or "")
        for api_path, form_path in (rename or {}).items():
            if path == api_path or path.startswith(api_path + "."):
                path = form_path + path[len(api_path) :]
                break
        message = _message(code if code != "validation_failed" else "", item.get("type"), path)
        if path and (known is None or field_id(path) in known):
            errors.add(path, message)
        else:
            errors.general.append(message if message != GENERIC else describe(problem))
    return errors


def describe(problem: dict[str, Any]) -> str:
    """One Polish sentence for a problem that belongs to no field."""
    code = str(problem.get("code", ""))
    return BY_CODE.get(code) or str(problem.get("title") or "Coś poszło nie tak.")
