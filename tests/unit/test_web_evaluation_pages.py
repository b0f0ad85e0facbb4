"""The evaluation reports and the follow-up form as the web pages turn them into tables and
requests: a withheld figure shows as withheld, never as 0; a form's missing choice stays
missing so that intake names the field."""

from __future__ import annotations

from starlette.datastructures import FormData

from services.web.pages.evaluation_reports import table_view
from services.web.pages.follow_up import follow_up_body


def test_a_protected_table_marks_withheld_counts_and_the_shares_resting_on_them() -> None:
    answer = {
        "report": "follow_ups",
        "title": "Trwałość efektów",
        "columns": [{"key": "3_sustained", "label": "po 3"},
                    {"key": "3_not_sustained", "label": "nie"}],
        "rows": [
            {"key": "0601042", "label": "Gmina",
             "cells": {"3_sustained": 7, "3_not_sustained": None}, "total": 8,
             "hidden": ["3_not_sustained"], "sustained_share_3": None, "success_share": 81.0},
            {"key": "0601052", "label": "Inna", "cells": {"3_sustained": 0, "3_not_sustained": 0},
             "total": 0, "hidden": [], "sustained_share_3": None, "success_share": None},
        ],
        "total": {"key": "total", "label": "ogółem", "cells": {"3_sustained": 7,
                  "3_not_sustained": None}, "total": 8, "hidden": ["3_not_sustained"],
                  "sustained_share_3": None, "success_share": 81.0},
        "definitions": {"cells": "kontrole"},
        "reference": {"label": "faza testowania", "completed_successfully": 140, "families": 172,
                      "success_share": 81.4},
    }  # fmt: skip
    extras = [("sustained_share_3", "%", "percent"), ("success_share", "sukces", "percent")]
    view = table_view(answer, extras)
    assert view["headers"] == ["po 3", "nie", "ogółem", "%", "sukces"]
    first, second, total = view["rows"]
    assert [c["withheld"] for c in first["cells"]] == [False, True, False, True, False]
    assert first["cells"][0]["value"] == 7 and first["cells"][4]["value"] == 81.0
    # nothing withheld in the row: a share without data is no data, not withheld
    assert second["cells"][3] == {"value": None, "withheld": False, "kind": "percent"}
    assert total["total"] is True and view["reference"]["success_share"] == 81.4


def test_the_follow_up_form_becomes_intakes_body() -> None:
    form = FormData([("months", "3"), ("sustained", "tak"), ("roles", "health"),
                     ("roles", "economic"), ("recorded_on", "2025-04-30")])  # fmt: skip
    assert follow_up_body(form) == {
        "months": 3, "sustained": True, "roles": ["health", "economic"],
        "recorded_on": "2025-04-30",
    }  # fmt: skip
    empty = follow_up_body(FormData([]))
    assert "sustained" not in empty and empty["months"] == "" and empty["roles"] == []
