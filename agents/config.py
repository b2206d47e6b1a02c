"""The agent's mapping file (TOML): which signatory it speaks for, which dataset, and how the
agency's export columns and date formats map onto the dataset schema."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from exchange.core.validation import Formats
from exchange.errors import ConfigError

_DEFAULT_FORMATS = Formats()


@dataclass(frozen=True)
class AgentConfig:
    path: Path
    signatory: str
    dataset: str
    marking: str
    key_file: Path
    outbox: Path
    partnership: Path
    supplier_contact: str
    columns: dict[str, str]  # schema field -> export column
    formats: Formats = field(default_factory=Formats)
    caveats: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> AgentConfig:
        path = Path(path)
        try:
            document = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read agent config ({exc.strerror})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
        agent = document.get("agent")
        if not isinstance(agent, dict):
            raise ConfigError(f"{path}: no [agent] table")
        missing = [k for k in ("signatory", "dataset", "marking", "key_file", "outbox", "partnership")
                   if k not in agent]
        if missing:
            raise ConfigError(f"{path}: [agent] lacks {', '.join(missing)}")
        base = path.parent

        def resolve(value: str) -> Path:
            candidate = Path(value)
            return candidate if candidate.is_absolute() else (base / candidate)

        formats = document.get("formats", {})
        return cls(
            path=path,
            signatory=agent["signatory"],
            dataset=agent["dataset"],
            marking=agent["marking"],
            key_file=resolve(agent["key_file"]),
            outbox=resolve(agent["outbox"]),
            partnership=resolve(agent["partnership"]),
            supplier_contact=agent.get("supplier_contact", ""),
            caveats=agent.get("caveats"),
            columns=dict(document.get("columns", {})),
            formats=Formats(
                dates=tuple(formats.get("dates", _DEFAULT_FORMATS.dates)),
                times=tuple(formats.get("times", _DEFAULT_FORMATS.times)),
            ),
        )
