"""The GUS TERC register (TERYT place codes), copy dated 2024-01-01.

A case's gmina is a 7-digit code WWPPGGR (voivodeship, powiat, gmina, type); its powiat, region
and model variant derive from it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.codes import ModelVariant
from shared.errors import InvalidInput
from shared.events import Place

TERC_FILE = Path(__file__).parent / "data" / "terc-2024-01-01.csv"

# RODZ of a whole gmina; 4 and 5 (town and rural part of an urban-rural gmina), 8 and 9
# (districts and delegations of cities) are parts, never the gmina of a case.
_VARIANT_BY_KIND = {"1": ModelVariant.URBAN, "2": ModelVariant.RURAL, "3": ModelVariant.URBAN_RURAL}


@dataclass(frozen=True)
class Gmina:
    code: str
    name: str
    kind: str  # NAZWA_DOD: "gmina wiejska", "gmina miejska", ...
    powiat: str
    powiat_name: str
    region: str
    region_name: str
    variant: ModelVariant

    @property
    def place(self) -> Place:
        """How events name this gmina: its codes and model variant, never its name."""
        return Place(gmina=self.code, powiat=self.powiat, region=self.region, variant=self.variant)


class TercRegister:
    def __init__(self, gminas: dict[str, Gmina]) -> None:
        self._gminas = gminas
        self.powiats = frozenset(g.powiat for g in gminas.values())
        self.regions = frozenset(g.region for g in gminas.values())

    @classmethod
    def load(cls, path: Path = TERC_FILE) -> TercRegister:
        regions: dict[str, str] = {}
        powiats: dict[str, str] = {}
        gminas: dict[str, Gmina] = {}
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        for row in rows:
            if not row["POW"]:
                regions[row["WOJ"]] = row["NAZWA"]
            elif not row["GMI"]:
                powiats[row["WOJ"] + row["POW"]] = row["NAZWA"]
        for row in rows:
            kind = row["RODZ"]
            if kind not in _VARIANT_BY_KIND:
                continue
            powiat = row["WOJ"] + row["POW"]
            code = powiat + row["GMI"] + kind
            gminas[code] = Gmina(
                code=code,
                name=row["NAZWA"],
                kind=row["NAZWA_DOD"],
                powiat=powiat,
                powiat_name=powiats.get(powiat, ""),
                region=row["WOJ"],
                region_name=regions.get(row["WOJ"], ""),
                variant=_VARIANT_BY_KIND[kind],
            )
        return cls(gminas)

    def gmina(self, code: str, *, field: str = "gmina") -> Gmina:
        """The gmina with this code, or InvalidInput naming the field."""
        found = self._gminas.get(code)
        if found is None:
            raise InvalidInput(
                "unknown_teryt", f"Kod „{code}” nie jest kodem gminy w rejestrze TERC.", field=field
            )
        return found

    def __contains__(self, code: object) -> bool:
        return code in self._gminas

    def in_region(self, region: str) -> list[Gmina]:
        return [g for g in self._gminas.values() if g.region == region]

    def in_powiat(self, powiat: str) -> list[Gmina]:
        return [g for g in self._gminas.values() if g.powiat == powiat]

    def codes(self) -> list[str]:
        return sorted(self._gminas)

    def __len__(self) -> int:
        return len(self._gminas)


LEVEL_DIGITS = (2, 4, 7)  # region, powiat, gmina


def nested(a: str, b: str) -> bool:
    """Whether two TERYT codes (region, powiat or gmina) are one place or one lies within the
    other: the shorter one is the longer one's digits of its own level, compared whole."""
    short, long = sorted((a, b), key=len)
    return len(short) in LEVEL_DIGITS and len(long) in LEVEL_DIGITS and long[: len(short)] == short


@cache
def terc() -> TercRegister:
    return TercRegister.load()
