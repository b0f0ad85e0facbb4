"""Who a local token names: each role and scope its own subject, so that the audit log and the
Idempotency-Key answers tell the people of a local or demo set-up apart (never `local-user` for
everyone). A real identity provider's tokens carry the person's own subject instead."""

from __future__ import annotations

from shared.auth import Role


def local_subject(
    role: Role,
    *,
    gmina: str | None = None,
    powiat: str | None = None,
    region: str | None = None,
    institution: str | None = None,
    prefix: str = "local",
) -> str:
    """E.g. `local-coordinator-gmina-0601042`, `local-institution_staff-institution-<id>`,
    `demo-analyst-region-06`: the same role and scope always give the same subject."""
    scope = [
        f"{name}-{value}"
        for name, value in (
            ("gmina", gmina),
            ("powiat", powiat),
            ("region", region),
            ("institution", institution),
        )
        if value
    ]
    return "-".join([prefix, str(role), *scope])
