"""Numbers, dates, times, durations and page references in the reader's convention.

English: 0.79, 4,700, "5 December 2026"; Russian and Turkmen: 0,79, 4 700, 05.12.2026.
Times are shown in one time zone, Asia/Ashgabat unless KB_TIMEZONE names another
(an IANA name such as "Europe/Vienna"); stored times are UTC.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kb.web.i18n import Translator

DEFAULT_TIMEZONE = "Asia/Ashgabat"
TIMEZONE_ENV = "KB_TIMEZONE"
# Ashgabat has kept UTC+5 without daylight saving since 1992: the fallback when the
# system has no time zone database.
_ASHGABAT = timezone(timedelta(hours=5), "Asia/Ashgabat")
_THIN_SPACE = "\u202f"  # between thousands in Russian and Turkmen, never broken
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def timezone_name() -> str:
    return os.environ.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE


def display_zone(name: str | None = None) -> tzinfo:
    """The zone times are shown in; an unknown name is a one-line error, not a silent UTC."""
    name = name or timezone_name()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == DEFAULT_TIMEZONE:
            return _ASHGABAT
        raise ValueError(
            f"{TIMEZONE_ENV}={name!r} is not a time zone name (e.g. Asia/Ashgabat)"
        ) from None


def number(value: float | int, ui: str, digits: int = 2) -> str:
    """A number with the reader's decimal and thousands separators."""
    text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,d}"
    if ui == "en":
        return text
    return text.replace(",", _THIN_SPACE).replace(".", ",")


def date(value: str, ui: str, t: Translator) -> str:
    """An ISO date ("2026-12-05", "2011-12" or "2024") as a reader writes it."""
    m = _ISO_DATE.match((value or "").strip())
    if not m:
        return value or ""
    year, month, day = m.group(1), m.group(2), m.group(3)
    if not month:
        return year
    if not day:
        return f"{t(f'month.{int(month)}')} {year}"
    if ui == "en":
        return f"{int(day)} {t(f'month.{int(month)}')} {year}"
    return f"{day}.{month}.{year}"


def moment(value: str, ui: str, t: Translator, zone: tzinfo | None = None) -> str:
    """A stored time (ISO 8601; UTC when it names no zone) in the display zone."""
    parsed = _parse(value)
    if parsed is None:
        return value or ""
    local = parsed.astimezone(zone or display_zone())
    clock = local.strftime("%H:%M")
    return (
        f"{date(local.date().isoformat(), ui, t)}, {clock}"
        if ui == "en"
        else (f"{local:%d.%m.%Y} {clock}")
    )


def zone_label(t: Translator, name: str | None = None) -> str:
    name = name or timezone_name()
    key = f"time.zone.{name}"
    label = t(key)
    return name if label == key else label


def seconds_between(started: str, finished: str) -> float | None:
    a, b = _parse(started), _parse(finished)
    if a is None or b is None or b < a:
        return None
    return (b - a).total_seconds()


def duration(seconds: float, t: Translator) -> str:
    """ "42 s", "3 min 5 s", "2 h 10 min"."""
    whole = max(0, round(seconds))
    if whole < 60:
        return t("time.seconds", s=whole)
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return t("time.minutes", m=minutes, s=secs)
    hours, minutes = divmod(minutes, 60)
    return t("time.hours", h=hours, m=minutes)


def pages(numbers: list[int], t: Translator) -> str:
    """ "p. 15" / "pp. 15–16" in the reader's language ("с. 15–16", "sah. 15–16")."""
    if not numbers:
        return ""
    if len(numbers) == 1 or numbers[0] == numbers[-1]:
        return t("cite.page", page=numbers[0])
    return t("cite.pages", first=numbers[0], last=numbers[-1])


def _parse(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
