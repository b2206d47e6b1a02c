"""The agent's mapping file (TOML): which signatory it speaks for, which dataset, how the
agency's export columns and date formats map onto the dataset schema, (optionally) which
columns carry per-record handling and withdrawals, and (optionally) the inbox folder that
`exchange agent run` watches."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from exchange.core.config_files import AgentFile, validated
from exchange.core.validation import Formats
from exchange.errors import ConfigError

_DEFAULT_FORMATS = Formats()


@dataclass(frozen=True)
class InboxSettings:
    """The `[inbox]` table, its folders resolved against the config file's folder."""

    folder: Path
    processed: Path
    failed: Path
    pattern: str = "*.csv"
    delete_after_acknowledged: bool = False
    stable_seconds: float = 2.0


@dataclass(frozen=True)
class AgentConfig:
    path: Path
    signatory: str
    dataset: str
    marking: str
    key_file: Path
    outbox: Path
    partnership: Path | None  # the ISP config, or ...
    supplier_contact: str
    columns: dict[str, str]  # schema field -> export column
    formats: Formats = field(default_factory=Formats)
    caveats: str | None = None
    encoding: str = "utf-8"
    depersonalised_marking: str | None = None
    withhold_free_text: tuple[str, ...] = ()  # free-text fields emptied at the agent, never sent
    handling_column: str | None = None  # per-record "not for dissemination" / "sub judice"
    sub_judice_recipients: tuple[str, ...] = ()
    withdrawal_column: str | None = None  # a status column ...
    withdrawal_values: frozenset[str] = frozenset()  # ... whose values (any case) withdraw the record
    inbox: InboxSettings | None = None  # the folder `exchange agent run` watches
    trust_anchor: Path | None = None  # ... the governance topic's signed state, checked against this

    @classmethod
    def load(cls, path: str | Path) -> AgentConfig:
        path = Path(path)
        try:
            document = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read agent config ({exc.strerror})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
        checked = validated(AgentFile, document, origin=str(path))
        agent, formats = checked.agent, checked.formats
        base = path.parent

        def resolve(value: str) -> Path:
            candidate = Path(value)
            return candidate if candidate.is_absolute() else (base / candidate)

        if (agent.partnership is None) == (agent.trust_anchor is None):
            raise ConfigError(f"{path}: [agent] needs one of partnership (the ISP config) or trust_anchor (follow the "
                              "signed partnership state on the governance topic)")
        inbox = None
        if checked.inbox is not None:
            folder = resolve(checked.inbox.folder)
            inbox = InboxSettings(
                folder=folder,
                processed=resolve(checked.inbox.processed) if checked.inbox.processed else folder / "processed",
                failed=resolve(checked.inbox.failed) if checked.inbox.failed else folder / "failed",
                pattern=checked.inbox.pattern,
                delete_after_acknowledged=checked.inbox.delete_after_acknowledged,
                stable_seconds=checked.inbox.stable_seconds,
            )

        return cls(
            path=path,
            signatory=agent.signatory,
            dataset=agent.dataset,
            marking=agent.marking,
            key_file=resolve(agent.key_file),
            outbox=resolve(agent.outbox),
            partnership=resolve(agent.partnership) if agent.partnership else None,
            trust_anchor=resolve(agent.trust_anchor) if agent.trust_anchor else None,
            supplier_contact=agent.supplier_contact,
            caveats=agent.caveats,
            encoding=agent.encoding,
            depersonalised_marking=agent.depersonalised_marking,
            withhold_free_text=tuple(agent.withhold_free_text),
            handling_column=checked.handling.column if checked.handling else None,
            sub_judice_recipients=tuple(checked.handling.sub_judice_recipients) if checked.handling else (),
            withdrawal_column=checked.withdrawal.column if checked.withdrawal else None,
            withdrawal_values=frozenset(v.strip().lower() for v in checked.withdrawal.values)
            if checked.withdrawal else frozenset(),
            inbox=inbox,
            columns=dict(checked.columns),
            formats=Formats(
                dates=tuple(formats.dates) if formats.dates is not None else _DEFAULT_FORMATS.dates,
                times=tuple(formats.times) if formats.times is not None else _DEFAULT_FORMATS.times,
            ),
        )
