"""The attacker of published figures: everything seen as one system of linear constraints on the
true counts, solved exactly by integer programming (scipy's HiGHS).

The unknowns are true counts: of each cell of a single table, or of each set of records an
analyst's figures count, with the structural identities among them (a row's cells sum to its
total). What the attacker knows of each figure:
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
    withheld_max: int | None = None  # the largest count ever withheld, if not threshold - 1
    figures: list[Figure] = field(default_factory=list)
    identities: set[tuple[frozenset[int], int]] = field(default_factory=set)
    _classes: dict[frozenset[Hashable], int] = field(default_factory=dict)

    def unknown(self, name: Hashable) -> int:
        """An unknown of its own (e.g. the true count of one set of records)."""
        return self._classes.setdefault(frozenset([("unknown", name)]), len(self._classes))

    def unknowns(self) -> dict[int, Hashable]:
        """Every unknown made by `unknown`, by its index: its name."""
        return {index: next(iter(key))[1] for key, index in self._classes.items()
                if len(key) == 1 and isinstance(next(iter(key)), tuple)
                and next(iter(key))[0] == "unknown"}  # fmt: skip

    def same(self, parts: Iterable[int], whole: int) -> None:
        """A structural identity: the unknowns `parts` sum to `whole` (a row to its total)."""
        self.identities.add((frozenset(parts), whole))

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
        """One row per set of classes seen, with the intersection of what each sight of it
        says (under the cell-key method they all say the same)."""
        bounds: dict[frozenset[int], tuple[float, float]] = {}
        for f in self.figures:
            if f.shown == 0:
                lo, hi = 0.0, 0.0
            elif f.shown is None:
                top = self.withheld_max or self.threshold - 1
                lo, hi = (1.0, float(top)) if self.cell_key else (0.0, np.inf)
            else:
                lo = float(max(self.threshold, f.shown - self.max_noise))
                hi = float(f.shown + self.max_noise)
            was_lo, was_hi = bounds.get(f.classes, (0.0, np.inf))
            bounds[f.classes] = (max(lo, was_lo), min(hi, was_hi))
        rows, cols, values, lower, upper = [], [], [], [], []
        for i, (classes, (lo, hi)) in enumerate(bounds.items()):
            rows += [i] * len(classes)
            cols += sorted(classes)
            values += [1.0] * len(classes)
            lower.append(lo)
            upper.append(hi)
        for i, (parts, whole) in enumerate(sorted(self.identities, key=str), len(bounds)):
            rows += [i] * (len(parts) + 1)
            cols += [*sorted(parts), whole]
            values += [1.0] * len(parts) + [-1.0]
            lower.append(0.0)
            upper.append(0.0)
        matrix = csr_matrix((values, (rows, cols)), shape=(len(lower), len(self._classes)))
        return matrix, np.array(lower), np.array(upper)

    def fits(self, counts: dict[int, int]) -> list[str]:
        """The figures the true counts of the classes break (none, if the attacker's model of
        what was published is right)."""
        broken = []
        for f in self.figures:
            true = sum(counts.get(c, 0) for c in f.classes)
            if f.shown == 0:
                ok = true == 0
            elif f.shown is None:
                ok = 1 <= true <= (self.withheld_max or self.threshold - 1) or not self.cell_key
            else:
                ok = true >= self.threshold and abs(true - f.shown) <= self.max_noise
            if not ok:
                broken.append(f"{f.where}: true {true}, shown {f.shown}")
        return broken

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
