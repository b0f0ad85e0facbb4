"""The contract itself leaves no room for personal data: no free-text fields in case events."""

import typing

from pydantic import BaseModel

from shared.events import ALL_EVENTS, InstitutionRegistered, InstitutionUpdated

# Institution names are institution data, not personal data (DESIGN.md).
DIRECTORY = {InstitutionRegistered, InstitutionUpdated}
FORBIDDEN_WORDS = ("name", "pesel", "address", "phone", "email", "note", "comment", "birth")


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for name, info in model.model_fields.items():
        found.append((prefix + name, info.annotation))
        for arg in typing.get_args(info.annotation) or (info.annotation,):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                found += _fields(arg, prefix + name + ".")
    return found


def test_no_event_field_is_named_like_personal_data() -> None:
    for event in ALL_EVENTS:
        if event in DIRECTORY:
            continue
        for path, _ in _fields(event):
            assert not any(w in path.lower() for w in FORBIDDEN_WORDS), f"{event.__name__}.{path}"


def test_case_events_have_no_unconstrained_text() -> None:
    for event in ALL_EVENTS:
        if event in DIRECTORY:
            continue
        for path, info in event.model_fields.items():
            if info.annotation is str:
                constrained = any(getattr(m, "pattern", None) for m in info.metadata)
                assert constrained, f"{event.__name__}.{path} is free text"
