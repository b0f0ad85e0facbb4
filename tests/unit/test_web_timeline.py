"""The case page's timeline composed from intake's history, the diagnosis and the referrals."""

from __future__ import annotations

from services.web.timeline import compose

OVERVIEW = {
    "reasons": ["1", "4"],
    "notified_by": "school",
    "consent": {"given_on": "2026-03-02", "scope": ["labour"]},
    "history": [
        {"at": "2026-03-01T09:00:00+00:00", "step": "open", "to_status": "opened"},
        {"at": "2026-03-02T10:00:00+00:00", "step": "give_consent", "to_status": "opened"},
        {"at": "2026-03-02T10:00:01+00:00", "step": "send_to_diagnosis",
         "to_status": "in_diagnosis"},
        {"at": "2026-05-20T12:00:00+00:00", "step": "close", "to_status": "closed",
         "outcome": "completed_partly"},
    ],
}  # fmt: skip
DIAGNOSIS = {
    "status": "completed",
    "revision": 1,
    "needs": [{"area": "employment", "severity": 2}],
    "recommendations": [{"support_type": "vocational_counselling", "priority": 1}],
    "assessments": [
        {"created_at": "2026-03-05T08:00:00+00:00", "institution_name": "PUP", "need_area":
         "employment", "severity": 2},
    ],
    "plan": {"agreed_on": "2026-03-10", "goals": [{}, {}], "social_contract_on": None},
}  # fmt: skip
REFERRAL = {
    "support_type": "vocational_counselling",
    "institution_id": "7c2b6a58-1f0e-4d43-9d2c-5b0e8d3f4a11",
    "institution_name": "Powiatowy Urząd Pracy",
    "state": "completed",
    "outcome": "achieved",
    "created_at": "2026-03-10T11:00:00+00:00",
    "accepted_at": "2026-03-11T11:00:00+00:00",
    "closed_at": "2026-04-30T11:00:00+00:00",
    "updated_at": "2026-04-30T11:00:00+00:00",
}


def test_the_whole_path_in_order_with_polish_names() -> None:
    entries = compose(OVERVIEW, DIAGNOSIS, [REFERRAL])
    assert [e.title for e in entries] == [
        "Otwarcie sprawy",
        "Zgoda na udostępnienie danych w PZK",
        "Skierowanie do diagnozy PZK",
        "Ocena w diagnozie PZK: PUP",
        "Diagnoza PZK zakończona",
        "Indywidualny Plan Wsparcia (IPW) uzgodniony",
        "Skierowanie „doradztwo zawodowe”: przydzielone",
        "Skierowanie „doradztwo zawodowe”: przyjęte",
        "Skierowanie „doradztwo zawodowe”: zrealizowane",
        "Zamknięcie sprawy",
    ]
    opened, consent, *_, completed, closed = entries
    assert "Powody (art. 7): ubóstwo; bezrobocie" in opened.details
    assert "Zakres zgody: rynek pracy" in consent.details
    assert "Wynik: cel osiągnięty" in completed.details
    assert "Wynik: zakończona częściowo" in closed.details
    diagnosis = entries[4]
    assert diagnosis.details == [
        "Potrzeba: zatrudnienie (waga: średnia)",
        "Rekomendacja: doradztwo zawodowe (priorytet 1)",
    ]


def test_without_diagnosis_or_referrals_the_case_history_alone() -> None:
    assert [e.title for e in compose(OVERVIEW)][-1] == "Zamknięcie sprawy"
    assert len(compose(OVERVIEW, None, [])) == 4


def test_the_plans_revisions_and_goal_reviews_are_on_the_timeline() -> None:
    counselling = {"recommendation_id": "r1", "support_type": "vocational_counselling"}
    training = {"recommendation_id": "r2", "support_type": "training"}
    assistant = {"recommendation_id": "r3", "support_type": "family_assistant"}
    v1 = [
        {"goal_id": "g1", "area": "employment", "supports": [counselling]},
        {"goal_id": "g2", "area": "parenting", "supports": [assistant]},
    ]
    v2 = [{"goal_id": "g1", "area": "employment", "supports": [counselling, training]}]
    plan = {
        "agreed_on": "2026-03-10",
        "goals": v2,
        "social_contract_on": None,
        "history": [
            {"version": 1, "on_day": "2026-03-10", "goals": v1},
            {"version": 2, "on_day": "2026-04-02", "goals": v2},
        ],
        "reviews": [
            {"goal_id": "g2", "reviewed_on": "2026-03-30", "result": "not_met"},
            {"goal_id": "g1", "reviewed_on": "2026-04-15", "result": "in_progress"},
        ],
    }
    entries = compose(OVERVIEW, {**DIAGNOSIS, "plan": plan}, [])
    titles = [e.title for e in entries]
    agreed = titles.index("Indywidualny Plan Wsparcia (IPW) uzgodniony")
    assert titles[agreed + 1 : agreed + 4] == [
        "Przegląd celu planu (opieka i wychowanie dzieci): cel nieosiągnięty",
        "Plan (IPW) zmieniony — wersja 2",
        "Przegląd celu planu (zatrudnienie): cel w trakcie realizacji",
    ]
    revised = entries[agreed + 2]
    assert revised.details == [
        "Cele: 1",
        "Usunięte cele: 1",
        "Dodane wsparcie: szkolenie zawodowe",
        "Usunięte wsparcie: asystent rodziny",
    ]


def test_a_plan_agreed_the_day_its_diagnosis_was_completed_follows_it() -> None:
    same_day = {**DIAGNOSIS, "plan": {**DIAGNOSIS["plan"], "agreed_on": "2026-03-05"}}
    titles = [e.title for e in compose(OVERVIEW, same_day, [REFERRAL])]
    completed = titles.index("Diagnoza PZK zakończona")
    assert titles[completed + 1] == "Indywidualny Plan Wsparcia (IPW) uzgodniony"


def test_the_teams_decisions_are_shown_as_decided_at_their_meeting() -> None:
    decisions = [
        {"kind": "diagnosis_agreed", "held_on": "2026-03-08", "meeting_id": "m1"},
        {
            "kind": "referral_agreed",
            "held_on": "2026-03-08",
            "support_type": "vocational_counselling",
            "institution_name": "Powiatowy Urząd Pracy",
        },
        {"kind": "plan_agreed", "held_on": "2026-03-10"},
    ]
    entries = compose(OVERVIEW, DIAGNOSIS, [REFERRAL], decisions)
    met = [e for e in entries if e.kind == "meeting"]
    assert [e.title for e in met] == [
        "Zespół uzgodnił diagnozę",
        "Zespół uzgodnił skierowanie do instytucji",
        "Zespół uzgodnił plan (IPW)",
    ]
    assert met[0].details == ["Ustalono na spotkaniu zespołu PZK z dnia 08.03.2026"]
    assert met[1].details[1:] == [
        "Wsparcie: doradztwo zawodowe",
        "Instytucja: Powiatowy Urząd Pracy",
    ]
    # in time order: after the assessment of 5 March, before the referral of 10 March, 11:00
    titles = [e.title for e in entries]
    assert titles.index("Ocena w diagnozie PZK: PUP") < titles.index("Zespół uzgodnił diagnozę")
    assert titles.index("Zespół uzgodnił plan (IPW)") < titles.index(
        "Skierowanie „doradztwo zawodowe”: przydzielone"
    )
