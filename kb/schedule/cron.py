"""When a cron schedule fires next, without importing Prefect.

`kb status` shows the next nightly run from the schedule recorded by
`kb schedule`; importing Prefect to evaluate it would cost seconds (and must not
start a server). Standard five fields (minute hour day-of-month month
day-of-week) with lists, ranges, steps and names, the @daily-style shortcuts,
and cron's rule that a day matches when either restricted day field does
(Prefect's default, `day_or=True`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kb.errors import KBError

_SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: n for n, m in enumerate(_MONTH_NAMES, start=1)}
_DAYS = {d: n for n, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# How far ahead to look: far enough for "29 Feb on a Monday" style expressions.
_SEARCH_YEARS = 28


class CronError(KBError):
    pass


@dataclass(frozen=True)
class CronSpec:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def day_matches(self, day: date) -> bool:
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow


def parse_cron(expression: str) -> CronSpec:
    text = _SHORTCUTS.get(expression.strip().lower(), expression.strip())
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            f"cron {expression!r}: expected 5 fields (minute hour day month weekday), got {len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    weekdays = _parse_field(weekday, 0, 7, _DAYS, expression)
    return CronSpec(
        minutes=_parse_field(minute, 0, 59, {}, expression),
        hours=_parse_field(hour, 0, 23, {}, expression),
        days=_parse_field(day, 1, 31, {}, expression),
        months=_parse_field(month, 1, 12, _MONTHS, expression),
        weekdays=frozenset(d % 7 for d in weekdays),
        days_restricted=not day.startswith("*"),
        weekdays_restricted=not weekday.startswith("*"),
    )


def _parse_field(
    field: str, low: int, high: int, names: dict[str, int], expression: str
) -> frozenset[int]:
    values: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if span == "*":
                start, end = low, high
            elif "-" in span:
                first, last = span.split("-", 1)
                start, end = _value(first, names), _value(last, names)
            else:
                start = _value(span, names)
                end = high if step_text else start
        except ValueError:
            raise CronError(f"cron {expression!r}: cannot read {field!r}") from None
        if step < 1 or not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"cron {expression!r}: {field!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int]) -> int:
    return names[text.lower()] if text.lower() in names else int(text)


def next_fire_time(expression: str, timezone: str, after: datetime) -> datetime:
    """The first time strictly after `after` that the schedule fires, in `timezone`.

    Wall-clock times that do not exist (a daylight-saving gap) are skipped.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(
            f"unknown time zone {timezone!r} (use an IANA name such as Asia/Ashgabat)"
        ) from None
    spec = parse_cron(expression)
    local_after = after.astimezone(zone)
    day = local_after.date()
    for _ in range(366 * _SEARCH_YEARS):
        if day.month in spec.months and spec.day_matches(day):
            for hour in sorted(spec.hours):
                for minute in sorted(spec.minutes):
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    if not _exists(candidate, zone):
                        continue
                    if candidate > local_after:
                        return candidate
        day += timedelta(days=1)
    raise CronError(f"cron {expression!r} never fires")


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    """False for a wall-clock time inside a daylight-saving gap (it never happens there)."""
    round_trip = local.astimezone(UTC).astimezone(zone)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)
