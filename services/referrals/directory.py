"""Who may change what of an institution's directory entry. No I/O.

A coordinator changes only what their scope covers: the gminas served of their own gminas, the
powiats served of their own powiat or region. The institution's own attributes (name, sector,
support types, capacity) and its deactivation concern every gmina it serves, so they need a
scope covering all of them. PZK membership is the partnership service's.
"""

from __future__ import annotations

from typing import Any

from shared.auth import Principal
from shared.errors import Forbidden
from shared.teryt import terc

OWN_ATTRIBUTES = ("name", "sector", "support_types", "capacity", "capacity_by_type")


def served_gminas(entry: dict[str, Any]) -> set[str]:
    """The gminas an institution serves: those named and those of the powiats named."""
    return {*entry["gminas"], *(g.code for p in entry["powiats"] for g in terc().in_powiat(p))}


def may_register(principal: Principal, entry: dict[str, Any]) -> None:
    """A new entry: every gmina and powiat it names is within the caller's scope."""
    _may_touch(principal, entry, {key: set(entry[key]) for key in _PLACES})


def may_change(principal: Principal, before: dict[str, Any], after: dict[str, Any]) -> None:
    """A change: the places added or removed are the caller's, and a change of the
    institution's own attributes needs a scope covering every gmina it serves."""
    _may_touch(principal, after, {k: set(before[k]) ^ set(after[k]) for k in _PLACES})
    changed = [key for key in OWN_ATTRIBUTES if _value(before[key]) != _value(after[key])]
    if changed:
        _covers_all(
            principal, before, after, what=f"zmienić jej pole {changed[0]}", field=changed[0]
        )


def may_deactivate(principal: Principal, entry: dict[str, Any]) -> None:
    _covers_all(principal, entry, entry, what="wyłączyć ją z kierowania", field=None)


_PLACES = ("gminas", "powiats")


def _may_touch(principal: Principal, entry: dict[str, Any], touched: dict[str, set[str]]) -> None:
    for key, codes in touched.items():
        for code in sorted(codes):
            covered = (
                principal.covers_powiat(code) if key == "powiats" else principal.covers_gmina(code)
            )
            if not covered:
                place = f"Powiat {code}" if key == "powiats" else f"Gmina {code}"
                own = "swojego powiatu" if key == "powiats" else "swojej gminy"
                raise Forbidden(
                    "out_of_scope",
                    f"{place} jest poza Twoim zakresem uprawnień: we wpisie możesz zmienić"
                    f" tylko miejsce {own}.",
                    field=key,
                )


def _covers_all(
    principal: Principal, before: dict[str, Any], after: dict[str, Any], *, what: str,
    field: str | None,
) -> None:  # fmt: skip
    outside = sorted(g for g in served_gminas(before) | served_gminas(after)
                     if not principal.covers_gmina(g))  # fmt: skip
    if outside:
        raise Forbidden(
            "scope_not_covering_institution",
            f"Instytucja działa też w gminach poza Twoim zakresem uprawnień"
            f" ({', '.join(outside[:5])}{', …' if len(outside) > 5 else ''}): {what} może"
            " koordynator, którego zakres obejmuje każdą gminę, w której ona działa.",
            field=field,
        )


def _value(value: Any) -> Any:
    """Lists compared as sets (the order of support types is no change)."""
    return sorted(value) if isinstance(value, list) else value
