"""The filters edition templates use: dates, figures, quotations and vocabulary words, the pack's way."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from brief.compare.engine import PAST
from brief.content import model as m
from brief.edition.wording import Wording

if TYPE_CHECKING:
    from brief.content.load import Content


def filters(content: Content) -> dict[str, Callable[..., Any]]:
    """Return the template filters for one pack: its locale and its vocabulary."""
    wording, vocabulary = Wording.of(content.pack), content.vocabulary

    def longdate(value: date | m.PartialDate) -> str:
        return wording.date(value)

    def moment(value: datetime) -> str:
        # Unambiguous in any reader's zone: '3 March 2025, 09:00 UTC-05:00'.
        delta = value.utcoffset()
        offset = int(delta.total_seconds() // 60) if delta is not None else 0
        sign = "+" if offset >= 0 else "-"
        zone = "UTC" if offset == 0 else f"UTC{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        return f"{wording.date(value.date())}, {value:%H:%M} {zone}"

    def word(key: str, kind: str) -> str:
        return vocabulary.label(kind, key)

    def past(effect: str) -> str:
        return PAST.get(effect) or vocabulary.label("effects", effect)

    def role(key: str, kind: str) -> str | None:
        return vocabulary.role(kind, key)

    def term_end(v: m.Version) -> m.PartialDate | None:
        ends = vocabulary.with_role("date_kinds", "end")
        return next((d for k, d in v.milestones() if k in ends), None)

    return {"longdate": longdate, "moment": moment, "figure": wording.figure, "quoted": wording.quoted, "word": word,
            "role": role, "term_end": term_end, "number": wording.number, "past": past}
