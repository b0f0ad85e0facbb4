"""Small-cell suppression: no withheld count can be worked out from what is shown."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from services.reporting.domain import Grid, suppress
from services.reporting.tables import (
    consistent_tables,
    cross_table,
    suppress_indicators,
    withheld_totals,
)

THRESHOLD = 5


def attacker_by_elimination(grid: Grid) -> set[tuple[int, int]]:
    """What a reader can solve line by line: a line with one unknown gives it away, which may
    give away the next one, and so on."""
    unknown = set(grid.hidden)
    solved: set[tuple[int, int]] = set()
    height, width = len(grid.cells), len(grid.cells[0])
    lines = [[(r, c) for c in range(width)] for r in range(height)]
    lines += [[(r, c) for r in range(height)] for c in range(width)]
    progress = True
    while progress:
        progress = False
        for line in lines:
            left = [p for p in line if p in unknown]
            if len(left) == 1:
                unknown.discard(left[0])
                solved.add(left[0])
                progress = True
    return solved


def attacker_by_linear_algebra(grid: Grid) -> set[tuple[int, int]]:
    """Every hidden cell fixed by the system of line sums (exact Gaussian elimination): it is
    determined when its unit vector lies in the row space of the constraints."""
    hidden = sorted(grid.hidden)
    index = {p: i for i, p in enumerate(hidden)}
    height, width = len(grid.cells), len(grid.cells[0])
    equations: list[list[Fraction]] = []
    # inner row r: sum of its cells - its total = 0; the totals row the same; likewise columns
    for r in range(height):
        eq = [Fraction(0)] * len(hidden)
        for c in range(width):
            if (r, c) in index:
                eq[index[(r, c)]] += -1 if c == width - 1 else 1
        equations.append(eq)
    for c in range(width):
        eq = [Fraction(0)] * len(hidden)
        for r in range(height):
            if (r, c) in index:
                eq[index[(r, c)]] += -1 if r == height - 1 else 1
        equations.append(eq)
    basis = _row_echelon(equations)
    solved = set()
    for p, i in index.items():
        unit = [Fraction(int(j == i)) for j in range(len(hidden))]
        if len(_row_echelon([*basis, unit])) == len(basis):
            solved.add(p)
    return solved


def _row_echelon(rows: list[list[Fraction]]) -> list[list[Fraction]]:
    rows = [list(r) for r in rows if any(r)]
    basis: list[list[Fraction]] = []
    width = len(rows[0]) if rows else 0
    for col in range(width):
        pivot = next((r for r in rows if r[col] != 0), None)
        if pivot is None:
            continue
        rows.remove(pivot)
        basis.append(pivot)
        rows = [
            [a - b * (r[col] / pivot[col]) for a, b in zip(r, pivot, strict=True)] for r in rows
        ]
        rows = [r for r in rows if any(r)]
    return basis


def test_small_counts_are_hidden_and_large_ones_shown() -> None:
    grid = suppress([[3, 20, 30], [12, 40, 7], [25, 8, 9]], THRESHOLD)
    assert (0, 0) in grid.hidden
    assert (1, 1) not in grid.hidden
    assert all(grid.cells[r][c] >= THRESHOLD or (r, c) in grid.hidden
               for r in range(3) for c in range(3) if grid.cells[r][c] > 0)  # fmt: skip


def test_a_lone_hidden_cell_cannot_be_recovered_from_its_row_total() -> None:
    inner = [[3, 20, 30], [12, 40, 17], [25, 18, 19]]
    grid = suppress(inner, THRESHOLD)
    # the naive attack: row total minus the cells shown
    row = grid.cells[0]
    shown = [v for c, v in enumerate(row[:-1]) if (0, c) not in grid.hidden]
    assert sum(1 for c in range(3) if (0, c) in grid.hidden) >= 2, "a complement is hidden too"
    assert row[-1] is None or (0, 3) in grid.hidden or len(shown) < 2
    assert attacker_by_elimination(grid) == set()
    assert attacker_by_linear_algebra(grid) == set()


def test_a_small_total_is_hidden_with_a_complement_so_the_grand_total_does_not_give_it_away(
) -> None:  # fmt: skip
    grid = suppress([[1, 2, 0], [30, 40, 50], [20, 25, 35]], THRESHOLD)
    assert (0, 3) in grid.hidden  # the row total 3
    assert attacker_by_elimination(grid) == set()
    assert attacker_by_linear_algebra(grid) == set()


def test_a_bridge_between_two_groups_of_hidden_cells_is_closed_into_a_cycle() -> None:
    # rows 0-1 x cols 0-1 and rows 2-3 x cols 2-3 are small blocks; cell (0, 2) is small too,
    # linking them: without a further complement it would be solvable.
    inner = [
        [1, 2, 3, 50, 60],
        [2, 1, 70, 80, 90],
        [60, 70, 1, 2, 50],
        [80, 90, 2, 1, 70],
        [50, 60, 70, 80, 90],
    ]
    grid = suppress(inner, THRESHOLD)
    assert attacker_by_elimination(grid) == set()
    assert attacker_by_linear_algebra(grid) == set()


@pytest.mark.parametrize("seed", range(60))
def test_no_hidden_cell_of_a_random_table_can_be_solved(seed: int) -> None:
    rng = random.Random(seed)
    height, width = rng.randint(1, 6), rng.randint(1, 6)
    inner = [
        [rng.choice([0, 1, 2, 3, 4, 5, 8, 13, 40]) for _ in range(width)] for _ in range(height)
    ]
    grid = suppress(inner, THRESHOLD)
    for r in range(len(grid.cells)):
        for c in range(len(grid.cells[0])):
            if 0 < grid.cells[r][c] < THRESHOLD:
                assert (r, c) in grid.hidden
    assert attacker_by_elimination(grid) == set()
    assert attacker_by_linear_algebra(grid) == set()


def test_the_threshold_is_configurable() -> None:
    assert suppress([[7, 30], [40, 50]], 5).hidden == set()
    assert (0, 0) in suppress([[7, 30], [40, 50]], 10).hidden


def test_cross_table_withholds_values_and_names_the_hidden_cells() -> None:
    cells = [
        {"row": "0601032", "col": "open", "n": 2},
        {"row": "0601032", "col": "completed_successfully", "n": 30},
        {"row": "0601042", "col": "open", "n": 20},
        {"row": "0601042", "col": "completed_successfully", "n": 25},
    ]
    table = cross_table(cells, {"open": "w toku", "completed_successfully": "sukces"}, str,
                        threshold=THRESHOLD)  # fmt: skip
    first = table.rows[0]
    assert first["cells"]["open"] is None and "open" in first["hidden"]
    # recovering it from the column: total minus the other row must not be possible
    column_total = table.total["cells"]["open"]
    other = table.rows[1]["cells"]["open"]
    assert column_total is None or other is None
    unsuppressed = cross_table(cells, {"open": "w toku"}, str, threshold=None)
    assert unsuppressed.rows[0]["cells"]["open"] == 2
    assert unsuppressed.total["total"] == 77


def test_indicators_withhold_small_counts_and_the_shares_resting_on_them() -> None:
    rows = [
        {"key": "a", "cases_opened": 3, "completed_successfully": 2, "success_share": 66.7},
        {"key": "b", "cases_opened": 40, "completed_successfully": 30, "success_share": 75.0},
        {"key": "c", "cases_opened": 50, "completed_successfully": 45, "success_share": 90.0},
    ]
    total = {"cases_opened": 93, "completed_successfully": 77, "success_share": 82.8}
    suppress_indicators(rows, total, THRESHOLD,
                        counts=("cases_opened", "completed_successfully"))  # fmt: skip
    assert rows[0]["cases_opened"] is None and rows[0]["success_share"] is None
    hidden_opened = [r for r in rows if r["cases_opened"] is None]
    assert len(hidden_opened) >= 2 or total["cases_opened"] is None
    assert total["success_share"] == 82.8


def test_tables_sharing_their_totals_withhold_the_same_totals() -> None:
    # cases by state and households by size both total the cases of each gmina; suppressed on
    # their own, each would show a total the other withholds as a complement
    cases = [
        {"row": "a", "col": "open", "n": 8},
        {"row": "b", "col": "completed_successfully", "n": 9},
        {"row": "c", "col": "open", "n": 3},
        {"row": "c", "col": "completed_successfully", "n": 5},
    ]
    households = [
        {"row": "a", "col": "2", "n": 8},
        {"row": "b", "col": "2", "n": 3},
        {"row": "b", "col": "4", "n": 6},
        {"row": "c", "col": "2", "n": 8},
    ]
    columns = {"cases": {"open": "", "completed_successfully": ""},
               "households": {"2": "", "4": ""}}  # fmt: skip
    alone = {
        name: withheld_totals(cross_table(cells, columns[name], str, threshold=THRESHOLD))
        for name, cells in (("cases", cases), ("households", households))
    }
    assert alone["cases"] != alone["households"], "the example must show the problem"

    tables = consistent_tables({"cases": cases, "households": households}, columns, THRESHOLD)
    assert withheld_totals(tables["cases"]) == withheld_totals(tables["households"])
    for table in tables.values():
        lines = [[*r["cells"].values(), r["total"]] for r in [*table.rows, table.total]]
        for line in lines + [list(c) for c in zip(*lines, strict=True)]:
            assert sum(v is None for v in line) != 1
