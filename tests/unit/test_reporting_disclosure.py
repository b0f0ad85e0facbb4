"""The cell-key method: the perturbation table, record and cell keys, the figures derived from
protected counts, and an exact attack on single tables (the multi-query attack on the running
service is in tests/integration/test_reporting_disclosure_attack.py)."""

from __future__ import annotations

import hashlib
import hmac
import random
from uuid import UUID, uuid4

import pytest

from services.reporting.disclosure import (
    KEY_RANGE,
    MAX_NOISE,
    NOISE_KEYS,
    cell_key,
    hmac_pads,
    noise,
    noise_row,
    protect,
    protected_quantile,
    record_key,
    share,
    share_error_bound,
    withheld_share,
    withheld_up_to,
)
from services.reporting.tables import cross_table, exact_quantile
from tests.disclosure_attack import Attack

THRESHOLD = 5
SECRET = b"a test secret of at least thirty-two bytes"


@pytest.mark.parametrize("threshold", [1, 2, 5, 10])
def test_the_perturbation_table_keeps_its_published_promises(threshold: int) -> None:
    for n in range(0, threshold + 40):
        published = [protect(n, key, threshold) for key in range(0, KEY_RANGE, 97)]
        if n == 0:
            assert set(published) == {0}  # zero stays zero
        elif n < threshold:
            assert set(published) == {None}  # withheld
        elif n <= withheld_up_to(threshold):
            assert None in published and any(p is not None for p in published)
        else:
            assert None not in published
        for shown in published:
            if shown not in (None, 0):
                assert abs(shown - n) <= MAX_NOISE
                assert shown >= threshold  # nothing shown below the threshold, nothing negative
    assert [withheld_share(threshold + i, threshold) for i in range(7)] == [
        219,
        182,
        146,
        109,
        73,
        36,
        0,
    ]
    for n in range(threshold, threshold + 5):
        row = noise_row(n, threshold)
        assert sum(count for _, count in row) == NOISE_KEYS
        assert max(abs(d) for d, _ in row) <= MAX_NOISE
    big = noise_row(threshold + 2, threshold)
    assert sum(d * count for d, count in big) == 0  # unbiased away from the threshold
    assert {d for d, _ in big} == set(range(-MAX_NOISE, MAX_NOISE + 1))


def test_noise_is_a_function_of_count_and_cell_key_only() -> None:
    assert [noise(40, k, THRESHOLD) for k in range(NOISE_KEYS)] == [
        noise(40, k + 5 * NOISE_KEYS, THRESHOLD) for k in range(NOISE_KEYS)
    ]
    values = [noise(40, k, THRESHOLD) for k in range(NOISE_KEYS)]
    assert values == sorted(values)  # keys in order run through the row's noise in order
    assert values.count(0) == 128 and values.count(-2) == values.count(2) == 3


def test_a_record_key_is_the_first_two_bytes_of_hmac_sha256_of_its_id() -> None:
    record = UUID("8f7d9a3c-1b2e-4c5d-9e8f-0a1b2c3d4e5f")
    digest = hmac.new(SECRET, record.bytes, hashlib.sha256).digest()
    assert record_key(SECRET, record) == digest[0] * 256 + digest[1]
    assert record_key(SECRET, record) == record_key(SECRET, record)  # fixed: same after rebuild
    assert record_key(SECRET, record, b"30-44 1") != record_key(SECRET, record, b"30-44 2") or (
        record_key(SECRET, record, b"30-44 3") != record_key(SECRET, record, b"30-44 1")
    )
    others = [record_key(b"another secret, also long enough to use", uuid4()) for _ in range(50)]
    assert len(set(others)) > 45  # spread over the range


def test_the_database_form_of_hmac_equals_the_library() -> None:
    for secret in (SECRET, b"short", b"x" * 100):
        inner, outer = hmac_pads(secret)
        for message in (b"", uuid4().bytes, b"person 1"):
            by_pads = hashlib.sha256(outer + hashlib.sha256(inner + message).digest()).digest()
            assert by_pads == hmac.new(secret, message, hashlib.sha256).digest()


def test_a_cell_key_depends_on_the_set_of_records_only() -> None:
    keys = [record_key(SECRET, uuid4()) for _ in range(30)]
    shuffled = random.Random(1).sample(keys, len(keys))
    assert cell_key(keys) == cell_key(shuffled) == sum(keys) % KEY_RANGE
    assert 0 <= cell_key(keys) < KEY_RANGE


def test_totals_are_figures_of_their_own_not_sums_of_protected_rows() -> None:
    # two gminas of 20 and 30 cases; the keys are chosen to give the rows +2 and the total 0
    plus_two, zero = KEY_RANGE - 1, 100
    cells = [
        {"level": "cell", "row": "a", "col": "open", "n": 20, "key": plus_two},
        {"level": "cell", "row": "b", "col": "open", "n": 30, "key": plus_two},
        {"level": "row", "row": "a", "col": None, "n": 20, "key": plus_two},
        {"level": "row", "row": "b", "col": None, "n": 30, "key": plus_two},
        {"level": "col", "row": None, "col": "open", "n": 50, "key": zero},
        {"level": "all", "row": None, "col": None, "n": 50, "key": zero},
    ]
    table = cross_table(cells, {"open": "w toku", "closed": "zamknięte"}, str, threshold=5)
    assert [r["cells"]["open"] for r in table.rows] == [22, 32]
    assert [r["cells"]["closed"] for r in table.rows] == [0, 0]  # no records: a true zero
    assert table.total["total"] == table.total["cells"]["open"] == 50
    exact = cross_table(cells, {"open": "w toku"}, str, threshold=None)
    assert [r["total"] for r in exact.rows] == [20, 30] and exact.total["total"] == 50


def test_small_counts_are_withheld_and_named() -> None:
    cells = [
        {"level": "cell", "row": "a", "col": "open", "n": 3, "key": 7},
        {"level": "row", "row": "a", "col": None, "n": 3, "key": 7},
        {"level": "col", "row": None, "col": "open", "n": 3, "key": 7},
        {"level": "all", "row": None, "col": None, "n": 3, "key": 7},
    ]
    table = cross_table(cells, {"open": "w toku"}, str, threshold=5)
    assert table.rows[0]["cells"]["open"] is None and table.rows[0]["total"] is None
    assert table.rows[0]["hidden"] == ["open", "total"]
    assert table.as_json()["suppression"] == {
        "threshold": 5, "sign": "#", "method": "cell-key", "max_noise": 2, "withheld_up_to": 10,
    }  # fmt: skip


def test_a_share_of_protected_counts_is_within_its_published_error() -> None:
    for whole in range(THRESHOLD, 120):
        for part in range(0, whole + 1):
            true = 100 * part / whole
            for d1 in range(-MAX_NOISE, MAX_NOISE + 1):
                for d2 in range(-MAX_NOISE, MAX_NOISE + 1):
                    shown_part = part + d1 if part >= THRESHOLD else (0 if part == 0 else None)
                    shown_whole = whole + d2
                    if shown_whole < THRESHOLD or shown_part is None or shown_part < 0:
                        continue
                    figure = share(shown_part, shown_whole, THRESHOLD)
                    assert figure is not None
                    assert abs(figure - true) <= share_error_bound(shown_whole) + 0.05
    assert share(None, 40, THRESHOLD) is None and share(3, 4, THRESHOLD) is None
    assert share_error_bound(100) == 4.0 and share_error_bound(1000) == 0.4


@pytest.mark.parametrize("seed", range(30))
def test_a_protected_percentile_lies_within_its_window_of_the_true_one(seed: int) -> None:
    rng = random.Random(seed)
    values = [float(rng.randint(0, 90)) for _ in range(rng.randint(THRESHOLD, 60))]
    for q in (0.5, 0.9):
        got = protected_quantile(values, q, THRESHOLD)
        true = exact_quantile(values, q)
        assert got.value is not None and got.spread is not None and true is not None
        assert abs(got.value - true) <= got.spread
    assert protected_quantile(values[: THRESHOLD - 1], 0.5, THRESHOLD).value is None


# --- an exact attack on one table ---------------------------------------------------------
# What the suppression tests attacked before (a table with its row and column totals, solved
# by linear algebra), now with the attacker of tests/disclosure_attack.py: the records of each
# cell are one class, every figure (cells, row totals, column totals, the grand total) is seen.


def _attack_one_table(
    inner: list[list[int]], secret: bytes, *, protect_with_noise: bool = True
) -> list[tuple[str, int]]:
    height, width = len(inner), len(inner[0])
    ids = {(r, c): [uuid4() for _ in range(inner[r][c])] for r in range(height)
           for c in range(width)}  # fmt: skip
    keys = {p: [record_key(secret, i) for i in found] for p, found in ids.items()}
    attack = Attack(
        THRESHOLD,
        MAX_NOISE if protect_with_noise else 0,
        cell_key=True,
        withheld_max=withheld_up_to(THRESHOLD) if protect_with_noise else None,
    )
    cls = {p: attack.classes_of({p: frozenset([p])})[p] for p in ids}

    def seen(cells: list[tuple[int, int]], where: str) -> None:
        n = sum(inner[r][c] for r, c in cells)
        key = cell_key([k for p in cells for k in keys[p]])
        shown = protect(n, key, THRESHOLD)
        if not protect_with_noise:  # small-cell suppression alone, as before
            shown = None if 0 < n < THRESHOLD else n
        attack.saw({cls[p] for p in cells}, shown, where)

    for r in range(height):
        for c in range(width):
            seen([(r, c)], f"cell {r},{c}")
        seen([(r, c) for c in range(width)], f"row {r}")
    for c in range(width):
        seen([(r, c) for r in range(height)], f"column {c}")
    seen(list(ids), "total")
    truth = {cls[p]: inner[p[0]][p[1]] for p in ids}
    assert attack.fits(truth) == []
    small = [(f"cell {r},{c} = {inner[r][c]}", frozenset([cls[(r, c)]]))
             for (r, c) in ids if 0 < inner[r][c] < THRESHOLD]  # fmt: skip
    return attack.pinned(small, truth)


def test_without_noise_a_lone_withheld_cell_is_given_away_by_its_row_total() -> None:
    # the attacker is able: published exactly (as small-cell suppression alone did), the
    # withheld 3 is its row total minus the other cell
    assert _attack_one_table([[3, 20], [12, 40]], SECRET, protect_with_noise=False) == [
        ("cell 0,0 = 3", 3)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_no_withheld_cell_of_a_random_protected_table_can_be_solved(seed: int) -> None:
    rng = random.Random(seed)
    height, width = rng.randint(1, 5), rng.randint(1, 5)
    inner = [[rng.choice([0, 1, 2, 3, 4, 5, 8, 13, 40]) for _ in range(width)]
             for _ in range(height)]  # fmt: skip
    assert _attack_one_table(inner, f"secret {seed}".encode()) == []


def test_production_needs_a_cell_key_secret_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.reporting import settings

    def secret_set_to(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("KOOP_REPORTING_CELL_KEY_SECRET", raising=False)
        else:
            monkeypatch.setenv("KOOP_REPORTING_CELL_KEY_SECRET", value)
        settings.reporting_settings.cache_clear()

    try:
        secret_set_to(None)
        assert settings.cell_key_secret(development=True) == (
            settings.DEVELOPMENT_CELL_KEY_SECRET.encode()
        )
        for refused in (None, settings.DEVELOPMENT_CELL_KEY_SECRET, "too short"):
            secret_set_to(refused)
            with pytest.raises(settings.MissingCellKeySecret):
                settings.cell_key_secret(development=False)
        secret_set_to("x" * 40)
        assert settings.cell_key_secret(development=False) == b"x" * 40
    finally:
        monkeypatch.delenv("KOOP_REPORTING_CELL_KEY_SECRET", raising=False)
        settings.reporting_settings.cache_clear()
