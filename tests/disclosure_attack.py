"""The attacker of published figures: everything seen as one system of linear constraints on the
true counts, solved exactly by integer programming (scipy's HiGHS).

The unknowns are the numbers of records of each class (records that no figure tells apart are
one class); a figure's true value is the sum of the classes it counts, so every structural
identity (rows sum to totals, a region is its powiats, a period is its months, the same
records in two tables) holds by construction. What the attacker knows of each figure:
- shown as 0: the true count is 0;
- withheld: 1 .. threshold - 1 under the cell-key method (0 .. anything when complementary
  suppression may have withheld it, as before);
- shown as v: v - max_noise .. v + max_noise, and at least the threshold.
A count is pinned when its minimum and maximum over all integer solutions are equal.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

UPPER = 10_000  # no class of records is larger


@dataclass
class Figure:
    classes: frozenset[int]
    shown: int | None  # None: withheld
    where: str  # how the analyst got it, for the report of a failure


@dataclass
class Attack:
    threshold: int
    max_noise: int
    cell_key: bool  # withheld means 1 .. threshold - 1 (else: anything, complements included)
    figures: list[Figure] = field(default_factory=list)
    _classes: dict[frozenset[Hashable], int] = field(default_factory=dict)

    def classes_of(self, members: dict[Hashable, frozenset[Hashable]]) -> dict[Hashable, int]:
        """Records (id -> the set of figures counting it) grouped into classes: one unknown
        per set of records that no figure tells apart. Returns record id -> class index."""
        out = {}
        for record, signature in members.items():
            out[record] = self._classes.setdefault(signature, len(self._classes))
        return out

    def saw(self, classes: Iterable[int], shown: int | None, where: str) -> None:
        self.figures.append(Figure(frozenset(classes), shown, where))

    def _system(self) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
        rows, cols, lower, upper = [], [], [], []
        for i, f in enumerate(self.figures):
            for c in f.classes:
                rows.append(i)
                cols.append(c)
            if f.shown == 0:
                lo, hi = 0, 0
            elif f.shown is None:
                lo, hi = (1, self.threshold - 1) if self.cell_key else (0, np.inf)
            else:
                lo = max(self.threshold, f.shown - self.max_noise)
                hi = f.shown + self.max_noise
            lower.append(lo)
            upper.append(hi)
        matrix = csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(self.figures), len(self._classes))
        )
        return matrix, np.array(lower, dtype=float), np.array(upper, dtype=float)

    def fits(self, counts: dict[int, int]) -> list[str]:
        """The figures the true counts of the classes break (none, if the attacker's model of
        what was published is right)."""
        matrix, lower, upper = self._system()
        x = np.array([counts.get(c, 0) for c in range(len(self._classes))], dtype=float)
        values = matrix @ x
        return [f"{f.where}: true {int(v)}, shown {f.shown}"
                for f, v, lo, hi in zip(self.figures, values, lower, upper, strict=True)
                if not lo <= v <= hi]  # fmt: skip

    def ranges(self, targets: Sequence[frozenset[int]]) -> list[tuple[int, int]]:
        """For each target (a set of classes), the least and the greatest value of its sum over
        every integer solution of what was seen."""
        matrix, lower, upper = self._system()
        n = len(self._classes)
        constraints = LinearConstraint(matrix, lower, upper)
        bounds = Bounds(np.zeros(n), np.full(n, UPPER))
        out = []
        for classes in targets:
            objective = np.zeros(n)
            objective[list(classes)] = 1.0
            ends = []
            for sign in (1.0, -1.0):
                result = milp(sign * objective, integrality=np.ones(n), bounds=bounds,
                              constraints=constraints)  # fmt: skip
                assert result.success, result.message  # the truth is a solution
                ends.append(round(sign * result.fun))
            out.append((ends[0], ends[1]))
        return out

    def pinned(
        self, targets: Sequence[tuple[str, frozenset[int]]], truth: dict[int, int]
    ) -> list[tuple[str, int]]:
        """The targets (name, classes) whose value every solution agrees on, with that value.
        The truth is a solution, so a target is pinned when neither a greater nor a smaller
        value than its true one is possible (the second is asked only when the first is not)."""
        matrix, lower, upper = self._system()
        n = len(self._classes)
        constraints = LinearConstraint(matrix, lower, upper)
        bounds = Bounds(np.zeros(n), np.full(n, UPPER))
        out = []
        for name, classes in targets:
            true = sum(truth.get(c, 0) for c in classes)
            objective = np.zeros(n)
            objective[list(classes)] = 1.0
            for sign in (-1.0, 1.0):  # the greatest value first, then the least
                result = milp(sign * objective, integrality=np.ones(n), bounds=bounds,
                              constraints=constraints)  # fmt: skip
                assert result.success, (name, result.message)
                if round(sign * result.fun) != true:
                    break
            else:
                out.append((name, true))
        return out
