"""Reading dates and times from export cells: the quick paths for the common formats must give
what strptime gives, value or refusal, for every text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.core.validation import parse_date, parse_time


def _strptime(text: str, fmt: str, part: str):
    try:
        parsed = dt.datetime.strptime(text, fmt)
    except ValueError:
        return "refused"
    return parsed.date() if part == "date" else parsed.time()


def _quick(parse, text: str, fmt: str):
    try:
        return parse(text, fmt)
    except ValueError:
        return "refused"


_DIGITS = st.sampled_from(list("0123456789") + ["٣", "２"])
_SEPARATORS = st.sampled_from(["-", "/", ":", " ", ""])
_SHAPED = st.lists(st.one_of(_DIGITS, _SEPARATORS), min_size=0, max_size=12).map("".join)


@settings(max_examples=800, deadline=None)
@given(st.one_of(_SHAPED, st.text(max_size=12)), st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y"]))
def test_dates_read_as_strptime_reads_them(text, fmt):
    assert _quick(parse_date, text, fmt) == _strptime(text, fmt, "date"), (text, fmt)


@settings(max_examples=800, deadline=None)
@given(st.one_of(_SHAPED, st.text(max_size=9)), st.sampled_from(["%H:%M", "%H:%M:%S", "%H.%M"]))
def test_times_read_as_strptime_reads_them(text, fmt):
    assert _quick(parse_time, text, fmt) == _strptime(text, fmt, "time"), (text, fmt)


@pytest.mark.parametrize(("text", "fmt", "expected"), [
    ("2024-02-29", "%Y-%m-%d", dt.date(2024, 2, 29)),
    ("29/02/2024", "%d/%m/%Y", dt.date(2024, 2, 29)),
    ("5/3/2024", "%d/%m/%Y", dt.date(2024, 3, 5)),  # one digit: strptime reads it
])
def test_dates_in_the_common_formats(text, fmt, expected):
    assert parse_date(text, fmt) == expected


@pytest.mark.parametrize("text", ["2023-02-29", "31/04/2024", "2024-13-01", "00/01/2024"])
def test_impossible_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text, "%Y-%m-%d" if "-" in text else "%d/%m/%Y")


def test_times_in_the_common_formats():
    assert parse_time("23:59", "%H:%M") == dt.time(23, 59)
    assert parse_time("00:00:07", "%H:%M:%S") == dt.time(0, 0, 7)
    for text, fmt in [("24:00", "%H:%M"), ("12:60", "%H:%M"), ("12:30:60", "%H:%M:%S"), ("12:30", "%H:%M:%S")]:
        with pytest.raises(ValueError):
            parse_time(text, fmt)


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1000, 1, 1)), st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y"]))
def test_real_dates_written_in_a_format_read_back(day, fmt):
    text = day.strftime(fmt)
    assert _quick(parse_date, text, fmt) == _strptime(text, fmt, "date") == day
