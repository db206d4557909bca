"""Event dates, resolved against the publication date.

Absolute: "12 March 2018", "March 12, 2018", "on 9 April" (year of publication, or the year
before when that would be in the future), "in February 2015", "in 2015". Relative: "on Friday"
(the latest Friday on or before publication), "last Wednesday" (strictly before),
"yesterday", "today", "overnight", "earlier this week", "last week", "N days/weeks ago",
"last month", "last year".

A mention keeps its ``precision``: "day", "week", "month" or "year"; a month or a year resolves
to its first day, and the phrase is kept so the choice can be explained.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["DateMention", "find_dates"]

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_NUMS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "a": 1, "an": 1, "several": 3, "a few": 3,
}  # fmt: skip

_M = (
    r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
_M2 = _M.replace("?P<month>", "?P<month2>")
_WD = r"(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_ORD = r"(?:st|nd|rd|th)?"

_DATE_RE = re.compile(
    "|".join(
        [
            # 12 March 2018 / 12 March / 12th of March
            rf"\b(?P<day>[0-3]?\d){_ORD}(?: of)? {_M}(?:,? (?P<year>(?:19|20)\d\d))?\b"
            r"(?! city)",  # "6th of October city" is a place
            # March 12, 2018 / March 12
            rf"\b{_M2} (?P<day2>[0-3]?\d){_ORD}(?:,? (?P<year2>(?:19|20)\d\d))?\b",
            # in February 2015 / February 2015
            r"\b(?:in |since |during |of |from )?(?P<month3>January|February|March|April|May|"
            r"June|July|August|September|October|November|December)(?:,)? "
            r"(?P<year3>(?:19|20)\d\d)\b",
            # in 2015
            r"\b(?P<yprep>in|since|during|of|the) (?:early |late |mid-?)?"
            r"(?P<year4>(?:19|20)\d\d)\b",
            # last Wednesday / on Friday / Friday night
            r"\b(?P<rel>last|this|on|late on|early on|late|early|overnight|since|by|until)? ?"
            rf"{_WD}\b",
            # relative words
            r"\b(?P<word>yesterday|today|tonight|overnight|earlier this week|earlier in the week|"
            r"last week|last weekend|this week|earlier this month|last month|this month|last year|"
            r"earlier this year|this year|the previous day|the day before|the previous week)\b",
            # N days ago
            r"\b(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an|several|a few) "
            r"(?P<unit>days?|weeks?|months?|years?) (?:ago|earlier|before)\b",
        ]
    )
    .lower()  # matched against the lower-cased text: ``re.I`` is several times slower
    .replace("(?p<", "(?P<"),
)


@dataclass(slots=True)
class DateMention:
    """A date read from the text; ``date`` is None when it cannot be resolved."""

    date: dt.date | None
    phrase: str
    start: int
    end: int
    precision: str  # day | week | month | year
    relative: bool  # resolved against the publication date


def _month(name: str) -> int:
    return _MONTHS[
        name.lower().rstrip(".")[:4]
        if name.lower().startswith("sept")
        else name.lower().rstrip(".")
    ]


#: Every date phrase contains one of these (digits, weekdays and "today" end in "day", the
#: relative phrases name a week, month or year): the expensive regex runs only around them.
_ANCHOR_RE = re.compile(r"\d|day|week|month|year|tonight|overnight")
_BEFORE, _AFTER = 32, 40  # the longest stretch of a date phrase before / after its anchor


def _matches(low: str) -> list[re.Match[str]]:
    """``_DATE_RE`` matches in ``low``, scanning only windows around anchors (merged, cut at
    spaces; ``finditer(pos, endpos)`` keeps the word boundaries of the whole text)."""
    n = len(low)
    spans: list[list[int]] = []
    for a in _ANCHOR_RE.finditer(low):
        lo = low.rfind(" ", 0, max(0, a.start() - _BEFORE)) + 1
        hi = low.find(" ", min(n, a.end() + _AFTER))
        hi = n if hi < 0 else hi
        if spans and lo <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], hi)
        else:
            spans.append([lo, hi])
    out: list[re.Match[str]] = []
    for lo, hi in spans:
        out.extend(_DATE_RE.finditer(low, lo, hi))
    return out


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def find_dates(text: str, published: dt.date | None, offset: int = 0) -> list[DateMention]:
    """Date mentions in ``text`` resolved against ``published`` (None: only absolute dates)."""
    out: list[DateMention] = []
    low = text.lower()
    if len(low) != len(text):  # keep offsets exact when a character lower-cases to two
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    for m in _matches(low):
        g = m.groupdict()
        date: dt.date | None = None
        precision = "day"
        relative = False
        if g["day"] or g["day2"]:
            day = int(g["day"] or g["day2"])
            month = _month(g["month"] or g["month2"])
            year_s = g["year"] or g["year2"]
            if year_s:
                date = _safe_date(int(year_s), month, day)
            elif published is not None:
                relative = True
                date = _safe_date(published.year, month, day)
                if date is not None and date > published + dt.timedelta(days=7):
                    date = _safe_date(published.year - 1, month, day)
        elif g["month3"]:
            date = _safe_date(int(g["year3"]), _month(g["month3"]), 1)
            precision = "month"
        elif g["year4"]:
            date = _safe_date(int(g["year4"]), 1, 1)
            precision = "year"
        elif g["wd"]:
            if published is None:
                continue
            relative = True
            wd = _WEEKDAYS[g["wd"].lower()]
            rel = (g["rel"] or "").lower()
            back = (published.weekday() - wd) % 7
            if rel == "last" and back == 0:
                back = 7
            if rel == "this" and back > 0 and wd > published.weekday():
                back = 0  # "this Friday" later in the week: not an event date
                continue
            date = published - dt.timedelta(days=back)
        elif g["word"]:
            if published is None:
                continue
            relative = True
            word = g["word"].lower()
            days = {
                "yesterday": 1, "today": 0, "tonight": 0, "overnight": 0, "the previous day": 1,
                "the day before": 1, "last week": 7, "the previous week": 7, "last weekend": 0,
                "this week": 0, "earlier this week": 2, "earlier in the week": 2,
            }  # fmt: skip
            if word in days:
                date = published - dt.timedelta(days=days[word])
                precision = "week" if "week" in word else "day"
                if word == "last weekend":
                    back = (published.weekday() - 5) % 7 or 7
                    date = published - dt.timedelta(days=back)
                if word in ("earlier this week", "earlier in the week"):
                    monday = published - dt.timedelta(days=published.weekday())
                    date = max(monday, published - dt.timedelta(days=2))
            elif word in ("last month",):
                first = published.replace(day=1) - dt.timedelta(days=1)
                date, precision = first.replace(day=1), "month"
            elif word in ("earlier this month", "this month"):
                date, precision = published.replace(day=1), "month"
            elif word == "last year":
                date, precision = dt.date(published.year - 1, 1, 1), "year"
            elif word in ("earlier this year", "this year"):
                date, precision = dt.date(published.year, 1, 1), "year"
        elif g["unit"]:
            if published is None:
                continue
            relative = True
            n = _NUMS.get(g["n"].lower()) or (int(g["n"]) if g["n"].isdigit() else 1)
            unit = g["unit"].lower().rstrip("s")
            span_days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n
            date = published - dt.timedelta(days=span_days)
            precision = "day" if unit == "day" else unit
        out.append(
            DateMention(
                date,
                text[m.start() : m.end()].strip(),
                m.start() + offset,
                m.end() + offset,
                precision,
                relative,
            )
        )
    return out
