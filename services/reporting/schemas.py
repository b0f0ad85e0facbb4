"""The answers of reporting's routes, as OpenAPI documents them: a client can be generated from
them. A withheld figure is `null` and named in its line's `hidden`; `suppression` says how the
figures of an answer are protected (`null`: exact, as a gmina's or powiat's coordinator reads
them)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    # Fields added later still reach the client; the documented ones are always there.
    model_config = ConfigDict(extra="allow")


class Protection(_Answer):
    threshold: int = Field(description="figures from 1 to threshold-1 are withheld")
    sign: str = Field(description="what stands for a withheld figure in an exported file")
    method: str | None = Field(default=None, description="how the other figures are protected")
    max_noise: int | None = Field(default=None, description="at most this far from the truth")


class Column(_Answer):
    key: str = Field(description="the code of the column, e.g. an outcome or a support type")
    label: str


class TableLine(_Answer):
    key: str = Field(description="a TERYT code, a variant or a sector; `total` for the total")
    label: str
    cells: dict[str, int | None] = Field(description="column key -> count (null: withheld)")
    total: int | None = Field(description="the line's own total (null: withheld)")
    hidden: list[str] = Field(description="withheld figures of the line: column keys, `total`")
    acceptance_rate: float | None = Field(
        default=None, description="acceptance_by_sector: see `definitions`"
    )
    sectors_engaged: int | None = Field(
        default=None,
        description="cooperation: sectors with at least one institution; meeting_sectors: "
        "sectors present at a meeting at least once",
    )
    institutions_per_meeting: float | None = Field(
        default=None, description="meetings: institutions attending a meeting on average"
    )
    hours: dict[str, float | None] | None = Field(
        default=None, description="activity_sessions: hours by type and `total` (null: withheld)"
    )
    mean: float | None = Field(default=None, description="survey_answers: the mean answer, 1-5")
    sustained_share_3: float | None = Field(default=None, description="follow_ups: %")
    sustained_share_6: float | None = Field(default=None, description="follow_ups: %")
    success_share: float | None = Field(
        default=None, description="follow_ups: the indicators' success share beside them"
    )
    response_rate: float | None = Field(default=None, description="survey_responses: %")


class Reference(_Answer):
    label: str
    completed_successfully: int
    families: int
    success_share: float | None


class ReportTable(_Answer):
    report: str
    title: str
    by: str = Field(
        description="what the rows are: region, powiat, gmina, variant, sector or question"
    )
    as_of: date | None
    definitions: dict[str, str] = Field(
        description="what the table counts and how its derived figures are computed"
    )
    columns: list[Column]
    rows: list[TableLine]
    total: TableLine
    suppression: Protection | None
    reference: Reference | None = Field(
        default=None, description="follow_ups: the model's testing-phase figure (140 of 172)"
    )


class IndicatorLine(_Answer):
    key: str
    label: str
    cases_opened: int | None
    cases_closed: int | None
    completed_successfully: int | None
    diagnosed: int | None
    supported: int | None
    referrals: int | None
    referrals_accepted: int | None
    referrals_declined: int | None
    referrals_answered: int | None
    referrals_overdue: int | None
    success_share: float | None = Field(description="see `definitions`")
    acceptance_rate: float | None = Field(description="see `definitions`")
    days_to_diagnosis_median: float | None
    days_to_diagnosis_p90: float | None
    days_to_first_support_median: float | None
    days_to_first_support_p90: float | None
    hidden: list[str] = Field(default_factory=list, description="withheld figures of the line")


class Indicators(_Answer):
    by: str
    as_of: date | None
    definitions: dict[str, str]
    rows: list[IndicatorLine]
    total: IndicatorLine
    suppression: Protection | None


class MonthOfIndicators(_Answer):
    month: str = Field(description="YYYY-MM")
    first_day: date = Field(description="the first day counted in this month")
    last_day: date = Field(description="the last day counted in this month")
    total: IndicatorLine


class MonthlyIndicators(_Answer):
    as_of: date | None
    definitions: dict[str, str]
    months: list[MonthOfIndicators]
    suppression: Protection | None


class SummaryLine(_Answer):
    key: str
    label: str
    cases_opened: int | None
    supports_assigned: int | None = Field(description="recommendations that reached an institution")
    referrals: int | None = Field(description="routing attempts: a re-routing is one more")
    hidden: list[str] = Field(default_factory=list)


class Summary(_Answer):
    by: str
    as_of: date | None
    definitions: dict[str, str]
    rows: list[SummaryLine]
    total: SummaryLine
    suppression: Protection | None


class ReportName(_Answer):
    name: str
    title: str


class Catalogue(_Answer):
    reports: list[ReportName]


class Rebuilt(_Answer):
    events: int = Field(description="events replayed from the log and applied")
    skipped: int = Field(description="messages of the log left out")
    skipped_because: dict[str, int] = Field(description="why -> how many")
    seconds: float
    events_per_second: float
