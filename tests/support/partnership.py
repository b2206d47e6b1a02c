"""The synthetic partnership as tests use it: its passphrase, an agent config per test, the
repository root."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from agents.config import AgentConfig

PASSPHRASE = "test passphrase, not a secret"


def agent_config_with_outbox(demo_files, outbox: Path):
    """The police agent's config with its own outbox, so tests do not share submission history."""
    return replace(AgentConfig.load(demo_files.agent_config), outbox=outbox)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
