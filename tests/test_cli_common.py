"""What every command shares: one log line per event, whatever a message carries."""

from __future__ import annotations

import logging

from exchange.cli._common import OneLineFormatter, escape_controls


def test_control_characters_cannot_start_a_log_line_of_their_own():
    record = logging.LogRecord("exchange.sanitiser", logging.WARNING, __file__, 1,
                               "dead-lettered %s", ("m-1\n2026-01-01 exchange.audit INFO forged\r\x00\u2028",), None)
    line = OneLineFormatter("%(levelname)s %(message)s").format(record)
    assert "\n" not in line and "\r" not in line and "\x00" not in line and "\u2028" not in line
    assert line == "WARNING dead-lettered m-1\\x0a2026-01-01 exchange.audit INFO forged\\x0d\\x00\\u2028"


def test_a_traceback_stays_on_the_line_of_its_event():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "\n" not in OneLineFormatter("%(message)s").format(record)


def test_text_without_controls_is_unchanged():
    assert escape_controls("£50 – Flat 3, Mill Court") == "£50 – Flat 3, Mill Court"
