"""Reading the briefing page as a browser or analyst would: its tables, and HTTP GETs."""

from __future__ import annotations

import urllib.error
import urllib.request
from html.parser import HTMLParser


class Tables(HTMLParser):
    """Every table of a page (nested ones too): its caption and its rows as lists of cell texts."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: list[dict] = []
        self._stack: list[dict] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._stack.append({"caption": "", "rows": [], "cell": None, "in_caption": False})
        elif not self._stack:
            return
        elif tag == "tr":
            self._stack[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._stack[-1]["cell"] = []
        elif tag == "caption":
            self._stack[-1]["in_caption"] = True

    def handle_endtag(self, tag):
        if not self._stack:
            return
        top = self._stack[-1]
        if tag == "table":
            self.tables.append(self._stack.pop())
        elif tag in ("td", "th") and top["cell"] is not None:
            top["rows"][-1].append(" ".join("".join(top["cell"]).split()))
            top["cell"] = None
        elif tag == "caption":
            top["in_caption"] = False

    def handle_data(self, data):
        if not self._stack:
            return
        top = self._stack[-1]
        if top["cell"] is not None:
            top["cell"].append(data)
        elif top["in_caption"]:
            top["caption"] += data

    def table(self, caption_starts: str) -> list[list[str]]:
        found = [t for t in self.tables if " ".join(t["caption"].split()).startswith(caption_starts)]
        assert found, f"no table captioned {caption_starts!r}: {[t['caption'][:40] for t in self.tables]}"
        return found[0]["rows"]


def get(url: str, host: str | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
