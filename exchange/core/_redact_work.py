"""The free-text scrubber's work area (exchange.core.redact): the text being scrubbed, with every
replacement made so far sealed behind one private-use character, and the placeholders replacements
are written with (``TOKENS``).

Sealing is what lets the passes run one after another without interfering: a later pass cannot
re-match, split or extend an identifier an earlier one replaced ("DOB 12/03/1985 High Street": the
sealed date is not a range of house numbers; "CV32 4" keeps its "4" from the house-number pass).
``Work.result`` restores the replacements at the end of a round. The private-use characters used
are ones not in the input, so input text can never forge or unseal a replacement.

Recognises nothing itself. Limit: the seal keys come from the supplementary private-use planes
(about 131,000 code points, less any the input itself uses), so one round can seal at most that
many replacements.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping

TOKENS: Mapping[str, str] = types.MappingProxyType(
    {
        "email": "[EMAIL]",
        "nhs_number": "[NHS NUMBER]",
        "ni_number": "[NI NUMBER]",
        "phone": "[PHONE]",
        "date_of_birth": "[DATE OF BIRTH]",
        "vehicle_registration": "[VEHICLE REGISTRATION]",
        "name": "[NAME]",
    }
)

# Characters that may not come right before a name (so "Kerry-Ann" is not read from "Ann").
_NOT_BEFORE_NAME = "_'’-"


class Work:
    """One round of scrubbing: the text so far, the sealed replacements and the counts per kind."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sealed: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        used = set(text)
        self._codes = (chr(c) for c in range(0xF0000, 0x10FFFE) if chr(c) not in used)

    def seal(self, replacement: str) -> str:
        key = next(self._codes)
        self.sealed[key] = replacement
        return key

    def sub(self, pattern: re.Pattern[str], kind: str | None, fn: Callable[[re.Match[str]], str | None]) -> None:
        def repl(match: re.Match[str]) -> str:
            out = fn(match)
            if out is None:
                return match.group(0)
            if kind is not None:
                self.counts[kind] = self.counts.get(kind, 0) + 1
            return self.seal(out)

        self.text = pattern.sub(repl, self.text)

    def scan(self, pattern: re.Pattern[str], kind: str, fn: Callable[[re.Match[str]], str | None],
             not_after: str = _NOT_BEFORE_NAME) -> None:
        """Like ``sub``, but a candidate the callback rejects does not hide the text it spanned: the
        search resumes one character after its start ("spoke to their neighbour Kerry Lloyd": the
        verb cue fails on "their", the relation cue "neighbour" is still found). Matches are
        bounded in length, so this stays linear."""
        text, out, pos, last = self.text, [], 0, 0
        while True:
            match = pattern.search(text, pos)
            if match is None:
                break
            start = match.start()
            # A match must start a word: checked here, not by a lookbehind at the start of the
            # pattern, which would stop the regex engine skipping quickly to candidates.
            replacement = None if start and (text[start - 1].isalnum() or text[start - 1] in not_after) else fn(match)
            if replacement is None:
                pos = match.start() + 1
                continue
            out.append(text[last : match.start()])
            out.append(self.seal(replacement))
            self.counts[kind] = self.counts.get(kind, 0) + 1
            pos = last = match.end()
        if out:
            out.append(text[last:])
            self.text = "".join(out)

    def scan_at(self, starts: Callable[[str], list[int]],
                rules: list[tuple[re.Pattern[str], str, Callable[[re.Match[str]], str | None]]]) -> None:
        """Try ``rules`` (pattern, kind, callback) in order, anchored at each position ``starts``
        gives (cheap to find), instead of scanning the whole text once per pattern."""
        text, out, last = self.text, [], 0
        for at in starts(text):
            if at < last:
                continue
            for pattern, kind, fn in rules:
                match = pattern.match(text, at)
                if match is None:
                    continue
                replacement = fn(match)
                if replacement is None:
                    continue
                out.append(text[last : match.start()])
                out.append(self.seal(replacement))
                self.counts[kind] = self.counts.get(kind, 0) + 1
                last = match.end()
                break
        if out:
            out.append(text[last:])
            self.text = "".join(out)

    def result(self) -> str:
        """The text with every sealed replacement restored (replacements may nest)."""
        text = self.text
        if not self.sealed:
            return text
        table = {ord(key): value for key, value in self.sealed.items()}
        while True:
            restored = text.translate(table)
            if restored == text:
                return text
            text = restored
