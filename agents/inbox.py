"""`exchange agent run`: the agent as a service. It watches the inbox folder its config names
(`[inbox]`) and submits each export that lands there once, then moves it aside.

What happens to a name in the inbox:

    x.csv.part, .x.csv, x.quarantine.csv,   ignored: still being written, hidden (an rsync or
    x.csv.error.txt, folders, symlinks       editor temporary), the agent's own reports, not a file
    x.csv (the pattern)                      submitted once complete: renamed from x.csv.part while
                                             the agent watched, or its size, time and inode
                                             unchanged for `stable_seconds`
      every record acknowledged           -> processed/x.csv with processed/x.quarantine.csv beside
                                             it (or, with `delete_after_acknowledged`, the export
                                             overwritten and deleted, the report still moved)
      refused (ConfigError: a bad header,
      a supply the partnership refuses)   -> failed/x.csv and failed/x.csv.error.txt saying why
      every row rejected                  -> failed/x.csv, its quarantine report, x.csv.error.txt
      the broker away (records wait in
      the outbox)                         -> stays in the inbox, tried again later

Restarts resume from the folders alone: what is in processed/ and failed/ is never looked at
again (only the inbox's top level is scanned), and a file still in the inbox is submitted again,
which the outbox makes safe: message ids come from content, so a file fully submitted before a
crash is recognised (`already_submitted`) and only moved. The report is moved before the export,
so an export still in the inbox always means "not finished".

Nothing of a record's content is logged or written to an error file: a line per file gives its
name, counts and where it went; an error file holds the refusal's text (which names the file,
columns and keys of the config, never a cell).

The inbox is watched with watchfiles (inotify on Linux) when it is installed, and otherwise, or
with `poll`, looked at every `poll` seconds; either way each wake-up rescans the folder, so a
missed or coalesced event costs nothing but a delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from agents.agent import SubmitReport, submit
from agents.config import AgentConfig, InboxSettings
from exchange.core.partnership import Partnership
from exchange.core.schemas import Dataset
from exchange.crypto.keys import KeyPair
from exchange.errors import ConfigError
from exchange.storage._files import open_private, private_folder
from exchange.transport.kafka import KafkaSettings

__all__ = ["DEFAULT_POLL_SECONDS", "PART_SUFFIX", "Action", "Decision", "FileState", "Inbox", "Outcome", "shred"]

log = logging.getLogger("exchange.agent.inbox")

PART_SUFFIX = ".part"  # an exporter writes x.csv.part, then renames it x.csv
QUARANTINE_SUFFIX = ".quarantine.csv"  # written beside the input by submit
ERROR_SUFFIX = ".error.txt"
DEFAULT_POLL_SECONDS = 5.0  # without watchfiles
RESCAN_SECONDS = 60.0  # while watching: a full look now and then, whatever the events said
FIRST_RETRY, LAST_RETRY = 5.0, 300.0  # after the broker was away, or an unexpected error

T = TypeVar("T")


class Action(StrEnum):
    IGNORE = "ignore"  # not an export, or not complete yet by the .part convention
    WAIT = "wait"  # may still be written, or waits for a retry: look again at `Decision.at`
    SUBMIT = "submit"


@dataclass(frozen=True, slots=True)
class FileState:
    """What is compared to tell a file has stopped changing."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileState:
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ino)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    why: str = ""
    at: float | None = None  # WAIT: when to look again (the inbox's clock)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one file (counts only: never a record's content)."""

    name: str
    went: str  # "processed", "deleted", "failed", "waiting" (stays for a retry), "gone" (removed by someone else)
    destination: Path | None = None
    report: SubmitReport | None = None  # None: the submission raised
    reason: str | None = None

    def count(self, what: str) -> int:
        """One of the report's counts (rows, accepted, rejected, already_submitted, published, waiting ...)."""
        return int(getattr(self.report, what)) if self.report is not None else 0

    def line(self) -> str:
        where = {"processed": f"moved to {self.destination}", "deleted": "overwritten and deleted",
                 "failed": f"moved to {self.destination}: {self.reason}",
                 "waiting": f"stays in the inbox: {self.reason}", "gone": "removed from the inbox by someone else"}
        counts = ", ".join(f"{self.count(what)} {what.replace('_', ' ')}" for what in
                           ("rows", "accepted", "rejected", "already_submitted", "withdrawn", "published"))
        return f"{self.name}: {counts}; {where.get(self.went, self.went)}"


def _watchfiles() -> Any:
    try:
        import watchfiles
    except ImportError:  # an optional speed-up: polling does the same job
        return None
    return watchfiles


class Inbox:
    """One agent's inbox: `decide` says what to do with each file of a listing (no I/O), `run`
    scans, submits and moves until `stop` is set."""

    def __init__(self, config: AgentConfig, *, partnership: Partnership, dataset: Dataset, keys: KeyPair,
                 settings: KafkaSettings, poll: float | None = None, give_up_after: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 partnership_source: Callable[[], Awaitable[Partnership]] | None = None):
        if config.inbox is None:
            raise ConfigError(f"{config.path}: no [inbox] table: `exchange agent run` needs its folder "
                              "(inbox.folder)")
        self.config = config
        self.inbox: InboxSettings = config.inbox
        self.partnership, self.dataset, self.keys, self.settings = partnership, dataset, keys, settings
        # The governance topic's live state (a started follower), asked before each file: a
        # suspension or a dataset no longer supplied is refused before anything is sealed.
        self._partnership_source = partnership_source
        self.poll = poll
        self.give_up_after = give_up_after
        self.clock = clock
        self.outcomes: list[Outcome] = []
        self.watching = False  # true while the filesystem tells us of changes (watchfiles)
        self.decisions: dict[str, Decision] = {}  # the latest decision on each file (for status and tests)
        self._seen: dict[str, tuple[FileState, float]] = {}  # name -> state, since when (clock)
        self._parts: set[str] = set()  # names seen as NAME.part: complete as soon as renamed
        self._not_before: dict[str, float] = {}  # name -> no new attempt before (an unexpected error)
        self._file_delays: dict[str, float] = {}  # name -> its next wait after another such error
        self._broker_back_at = 0.0  # no submission before: the broker was away
        self._retry_delay = FIRST_RETRY
        # The last unexpected error (a submission or a move that failed): its class name and when
        # (epoch seconds), for health and metrics (exchange.services.health); never its message.
        self.last_error: tuple[str, float] | None = None

    # -- the decision ------------------------------------------------------------------------

    def is_export(self, name: str) -> bool:
        lowered = name.lower()
        return (not name.startswith(".") and not lowered.endswith((PART_SUFFIX, QUARANTINE_SUFFIX, ERROR_SUFFIX))
                and fnmatch.fnmatchcase(lowered, self.inbox.pattern.lower()))

    def decide(self, listing: Mapping[str, FileState], now: float) -> dict[str, Decision]:
        """What to do with each regular file of the inbox (name -> its state), at `now`.

        Remembers what it saw: a file becomes ready once its state has not changed for
        `stable_seconds`, or at once when it was seen as NAME.part before and the .part is gone."""
        present = set(listing)
        self._parts = {n for n in self._parts if n in present or n + PART_SUFFIX in present}
        self._seen = {n: seen for n, seen in self._seen.items() if n in present}
        self._not_before = {n: at for n, at in self._not_before.items() if n in present}
        self._file_delays = {n: delay for n, delay in self._file_delays.items() if n in present}
        decisions: dict[str, Decision] = {}
        for name in sorted(listing):
            if name.endswith(PART_SUFFIX):
                self._parts.add(name[:-len(PART_SUFFIX)])
                decisions[name] = Decision(Action.IGNORE, "still being written (.part)")
                continue
            if not self.is_export(name):
                decisions[name] = Decision(Action.IGNORE, "not an export")
                continue
            state = listing[name]
            seen = self._seen.get(name)
            if seen is None or seen[0] != state:
                seen = self._seen[name] = (state, now)
            renamed = name in self._parts and name + PART_SUFFIX not in present
            stable_at = seen[1] + self.inbox.stable_seconds
            if not renamed and now < stable_at:
                decisions[name] = Decision(Action.WAIT, "may still be written", stable_at)
            elif now < self._not_before.get(name, 0.0):
                decisions[name] = Decision(Action.WAIT, "waits to be tried again", self._not_before[name])
            elif now < self._broker_back_at:
                decisions[name] = Decision(Action.WAIT, "the broker was away", self._broker_back_at)
            else:
                decisions[name] = Decision(Action.SUBMIT)
        self.decisions = decisions
        return decisions

    def listing(self) -> dict[str, FileState]:
        """The regular files in the inbox's top level (symlinks and folders are not exports)."""
        found: dict[str, FileState] = {}
        with os.scandir(self.inbox.folder) as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False):
                        found[entry.name] = FileState.of(entry.stat(follow_symlinks=False))
                except FileNotFoundError:  # gone between the listing and the look
                    continue
        return found

    # -- the service -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the folders (0700) and check that a file can be renamed from one to the other."""
        inbox = self.inbox
        for folder in (inbox.folder, inbox.processed, inbox.failed):
            private_folder(folder)
        if inbox.folder.resolve() in (inbox.processed.resolve(), inbox.failed.resolve()):
            raise ConfigError(f"{self.config.path}: inbox.processed and inbox.failed must be other folders than "
                              f"inbox.folder")
        device = inbox.folder.stat().st_dev
        for key, folder in (("processed", inbox.processed), ("failed", inbox.failed)):
            if folder.stat().st_dev != device:
                raise ConfigError(f"{self.config.path}: inbox.{key} ({folder}) is not on the filesystem of "
                                  f"inbox.folder ({inbox.folder}): files are moved there by an atomic rename")

    async def run(self, stop: asyncio.Event) -> list[Outcome]:
        """Process the inbox until `stop` is set; return what became of each file."""
        self.prepare()
        wake = asyncio.Event()
        watcher: asyncio.Task[None] | None = None
        stop_watching = asyncio.Event()
        watchfiles = None if self.poll is not None else _watchfiles()
        if watchfiles is not None:
            self.watching = True
            watcher = asyncio.create_task(self._watch(watchfiles, wake, stop_watching))
            log.info("watching %s for %s (inotify, watchfiles)", self.inbox.folder, self.inbox.pattern)
        else:
            log.info("looking at %s for %s every %.1f s (%s)", self.inbox.folder, self.inbox.pattern,
                     self._poll_seconds, "--poll" if self.poll is not None else "watchfiles is not installed")
        try:
            while not stop.is_set():
                wake.clear()
                next_look = await self._pass(stop)
                if stop.is_set():
                    break
                timeout = RESCAN_SECONDS if self.watching else self._poll_seconds
                if next_look is not None:
                    timeout = min(timeout, max(0.05, next_look - self.clock()))
                await _first_of(stop, wake, timeout)
        finally:
            stop_watching.set()
            if watcher is not None:
                await asyncio.gather(watcher, return_exceptions=True)
        return self.outcomes

    @property
    def _poll_seconds(self) -> float:
        return self.poll if self.poll is not None else DEFAULT_POLL_SECONDS

    async def _watch(self, watchfiles: Any, wake: asyncio.Event, stop_watching: asyncio.Event) -> None:
        """Wake the loop on any change in the inbox's top level (every event alike: the loop rescans)."""
        quiet = logging.getLogger("watchfiles")
        if quiet.level == logging.NOTSET:  # its "N changes detected" would be a line per event
            quiet.setLevel(logging.WARNING)
        try:
            # A change wakes the loop after 5 ms without another (at most 50 ms): a .part renamed
            # is submitted at once (the service adds 12-27 ms to a supply, bench/inbox.py; it added
            # 90-125 ms waiting 50 ms, up to 200), and an early wake costs only a rescan. Idle: 0.6% of a core.
            async for _ in watchfiles.awatch(self.inbox.folder, watch_filter=None, recursive=False, debounce=50,
                                             step=5, stop_event=stop_watching):
                wake.set()
        except Exception as exc:  # e.g. the inotify watch limit: carry on by polling
            log.warning("cannot watch %s (%s); looking every %.1f s instead", self.inbox.folder,
                        exc.__class__.__name__, self._poll_seconds)
        self.watching = False
        wake.set()

    async def _pass(self, stop: asyncio.Event) -> float | None:
        """Submit what is ready, one file at a time, deciding afresh after each (a submission can
        take a while). Returns when to look again (None: on the next event or rescan)."""
        while not stop.is_set():
            decisions = self.decide(self.listing(), self.clock())
            ready = [name for name, decision in decisions.items() if decision.action is Action.SUBMIT]
            if not ready:
                return min((d.at for d in decisions.values() if d.action is Action.WAIT and d.at is not None),
                           default=None)
            outcome = await _unless_stopped(self.process(self.inbox.folder / ready[0]), stop)
            if outcome is None:  # stopped during the submission: the file stays, for the next start
                return None
            self._record(outcome)
        return None

    def _record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        now = self.clock()
        if outcome.went == "waiting":
            log.warning("%s", outcome.line())
        elif outcome.went == "failed":
            log.error("%s", outcome.line())
        else:
            log.info("%s", outcome.line())
        if outcome.went == "waiting" and outcome.count("waiting"):  # the broker: every file waits for it
            self._broker_back_at = now + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, LAST_RETRY)
        elif outcome.went == "waiting":  # this file could not be submitted or moved: it waits, longer each time
            delay = self._file_delays.get(outcome.name, FIRST_RETRY)
            self._not_before[outcome.name] = now + delay
            self._file_delays[outcome.name] = min(delay * 2, LAST_RETRY)
        else:
            self._not_before.pop(outcome.name, None)
            self._file_delays.pop(outcome.name, None)
            if outcome.went in ("processed", "deleted"):  # the broker acknowledged everything: it is back
                self._broker_back_at, self._retry_delay = 0.0, FIRST_RETRY

    # -- one file ----------------------------------------------------------------------------

    async def process(self, path: Path) -> Outcome:
        """Submit one export and put it where it belongs."""
        name = path.name
        try:
            if self._partnership_source is not None:
                self.partnership = await self._partnership_source()
            report = await submit(self.config, path, partnership=self.partnership, dataset=self.dataset,
                                  keys=self.keys, settings=self.settings, give_up_after=self.give_up_after)
        except Exception as exc:
            if not path.exists():
                return Outcome(name, "gone")
            if isinstance(exc, ConfigError):  # the file (its header, its encoding) or the supply is refused
                refusal = str(exc)
                return self._settle(path, lambda: self._fail(path, refusal, None))
            # Not the file's fault as far as we know: keep it and try again later. Only the kind
            # of error is logged: a message could quote a value.
            self.last_error = (exc.__class__.__name__, time.time())
            return Outcome(name, "waiting", reason=f"the submission failed ({exc.__class__.__name__}); tried again "
                                                   f"later (`exchange agent submit --check` shows what a file holds)")
        if report.waiting:
            return Outcome(name, "waiting", report=report, reason=f"{report.waiting} message(s) wait in the outbox "
                                                                  f"for the broker; tried again later")
        if report.rows and report.rejected == report.rows:
            why = (f"all {report.rows} rows were rejected; the reasons, row by row, are in the quarantine "
                   f"report beside it")
            return self._settle(path, lambda: self._fail(path, why, report.quarantine, report))
        if self.inbox.delete_after_acknowledged:
            return self._settle(path, lambda: self._delete(path, report))
        return self._settle(path, lambda: Outcome(name, "processed", self._move(path, report.quarantine,
                                                                                self.inbox.processed), report))

    def _settle(self, path: Path, action: Callable[[], Outcome]) -> Outcome:
        """Move (or delete) the file; if that cannot be done, it stays and is submitted again later
        (which sends nothing twice)."""
        try:
            return action()
        except OSError as exc:
            if not path.exists():
                return Outcome(path.name, "gone")
            self.last_error = (exc.__class__.__name__, time.time())
            return Outcome(path.name, "waiting", reason=f"cannot move it ({exc.strerror or exc.__class__.__name__}); "
                                                        f"tried again later")

    def _delete(self, path: Path, report: SubmitReport) -> Outcome:
        if report.quarantine is not None and report.quarantine.exists():
            os.replace(report.quarantine, self._free_name(self.inbox.processed, path.name)[1])
            _fsync_folder(self.inbox.processed)
        shred(path)
        return Outcome(path.name, "deleted", report=report)

    def _fail(self, path: Path, reason: str, quarantine: Path | None,
              report: SubmitReport | None = None) -> Outcome:
        target, _ = self._free_name(self.inbox.failed, path.name)
        with open_private(target.with_name(target.name + ERROR_SUFFIX), "w", encoding="utf-8") as out:
            out.write(reason + "\n")
        self._move(path, quarantine, self.inbox.failed, target)
        return Outcome(path.name, "failed", target, report, reason)

    def _move(self, path: Path, quarantine: Path | None, folder: Path, target: Path | None = None) -> Path:
        """The report first, then the export (so an export in the inbox means "not finished"); atomic renames."""
        target, report_target = self._free_name(folder, path.name) if target is None else \
            (target, _report_name(target))
        if quarantine is not None and quarantine.exists():
            os.replace(quarantine, report_target)
        os.replace(path, target)
        _fsync_folder(folder)
        _fsync_folder(path.parent)
        return target

    @staticmethod
    def _free_name(folder: Path, name: str) -> tuple[Path, Path]:
        """NAME in `folder`, or NAME.2, NAME.3 ... before its suffix when an earlier export had the
        name (agencies' exporters often write the same name every day); with its report's name."""
        stem, suffix = os.path.splitext(name)
        number = 1
        while True:
            candidate = folder / (name if number == 1 else f"{stem}.{number}{suffix}")
            report = _report_name(candidate)
            if not candidate.exists() and not report.exists() and \
                    not candidate.with_name(candidate.name + ERROR_SUFFIX).exists():
                return candidate, report
            number += 1


def _report_name(export: Path) -> Path:
    return export.with_name(export.stem + QUARANTINE_SUFFIX)  # as IngestResult.quarantine_path names it


def shred(path: Path) -> None:
    """Overwrite the file's bytes with zeros, fsync, and unlink it.

    On an SSD (wear levelling) or a copy-on-write or journalling-data filesystem (btrfs, ZFS)
    the old blocks may survive the overwrite: this gives no guarantee there, and full-disk
    encryption is the real protection."""
    zeros = bytes(1 << 20)
    with open(path, "r+b", buffering=0) as handle:
        remaining = os.fstat(handle.fileno()).st_size
        while remaining > 0:
            remaining -= handle.write(zeros[:min(remaining, len(zeros))])
        os.fsync(handle.fileno())
    path.unlink()
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename or unlink in `folder` durable (a crash right after cannot undo it)."""
    with contextlib.suppress(OSError):  # some filesystems cannot open or sync a folder
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


async def _first_of(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    """Wait until either event is set, or `timeout` seconds pass."""
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`work`'s result, or None if `stop` was set first (the work is then cancelled: a submission
    cancelled half-way leaves its sealed records in the outbox, and the file in the inbox)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
        await asyncio.gather(stopper, task, return_exceptions=True)
    if task.cancelled():
        return None
    return task.result()
