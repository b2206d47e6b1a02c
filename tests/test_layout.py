"""The layers' boundaries, read from every import statement in the tree (at any depth, so an import
hidden inside a function counts too):

    exchange/core, exchange/errors.py   pure: no I/O library, no other layer of the exchange
    exchange/crypto                     only _primitives touches PyNaCl, cryptography or HMAC
    exchange/transport                  knows nothing of envelopes, records or SQLite
    exchange/storage                    knows nothing of Kafka
    exchange/services, cli, agents      the only places the layers meet
    runtime code                        never imports the tests; bench/ imports no test either
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IO_LIBRARIES = {"aiokafka", "aiosqlite", "sqlite3", "pyproj", "click", "nacl", "cryptography", "socket", "subprocess",
                "kafka"}
CRYPTO_LIBRARIES = {"nacl", "cryptography", "hmac"}


def imported_modules(source: str) -> set[str]:
    """Every module an import statement in `source` names (`from a.b import c` gives a.b and a.b.c)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def violations(path: Path, source: str) -> list[str]:
    """What `path` imports that its layer may not."""
    relative = path.relative_to(ROOT).as_posix()
    modules = imported_modules(source)
    tops = {_top(m) for m in modules}
    problems: list[str] = []

    def forbid(names: set[str], why: str) -> None:
        problems.extend(f"{relative} imports {name}: {why}" for name in sorted(names))

    if relative.startswith("exchange/core/") or relative == "exchange/errors.py":
        forbid(tops & IO_LIBRARIES, "the core is pure")
        forbid({m for m in modules if m.startswith(("exchange.crypto", "exchange.storage", "exchange.transport",
                                                     "exchange.services", "exchange.cli", "exchange.testing",
                                                     "agents"))}, "the core depends on no other layer")
    if relative.startswith("exchange/") and relative != "exchange/crypto/_primitives.py":
        forbid(tops & CRYPTO_LIBRARIES, "only exchange/crypto/_primitives.py touches cryptographic primitives")
    if relative.startswith("exchange/transport/"):
        forbid({m for m in modules if m.startswith(("exchange.crypto", "exchange.storage", "exchange.services",
                                                     "aiosqlite", "sqlite3"))},
               "transport carries bytes; it knows nothing of envelopes or storage")
    if relative.startswith("exchange/storage/"):
        forbid({m for m in modules if _top(m) == "aiokafka" or m.startswith(("exchange.transport",
                                                                             "exchange.services"))},
               "storage knows nothing of Kafka or the services")
    if relative.startswith(("exchange/", "agents/", "bench/")):
        forbid({m for m in modules if _top(m) == "tests"}, "runtime code and benchmarks never import the tests")
    return problems


def _python_files() -> list[Path]:
    return sorted(p for folder in ("exchange", "agents", "bench") for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_module_keeps_to_its_layer(path):
    assert violations(path, path.read_text()) == []


@pytest.mark.parametrize("where, source", [
    ("exchange/core/rules.py", "def f():\n    import sqlite3\n"),
    ("exchange/core/rules.py", "from aiokafka import AIOKafkaConsumer\n"),
    ("exchange/core/rules.py", "from exchange.storage.audit import AuditLog\n"),
    ("exchange/errors.py", "import click\n"),
    ("exchange/crypto/keys.py", "import nacl.secret\n"),
    ("exchange/core/depersonalise.py", "import hmac\n"),
    ("exchange/transport/kafka.py", "from exchange.crypto.envelope import Opener\n"),
    ("exchange/storage/feed_store.py", "from aiokafka import TopicPartition\n"),
    ("bench/pipeline.py", "from tests.support import fakes\n"),
])
def test_the_boundary_check_catches_a_forbidden_import(where, source):
    assert violations(ROOT / where, source), f"{where}: {source!r} was not caught"


def test_the_primitives_module_may_use_the_libraries_it_fences():
    assert violations(ROOT / "exchange/crypto/_primitives.py", "import nacl.public\nimport hmac\n") == []


def test_every_layer_has_a_curated_public_surface():
    """Each layer's public modules say what they offer (`__all__`); plumbing modules are underscored."""
    missing = []
    for path in sorted((ROOT / "exchange").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if path.name.startswith("_") or relative.startswith(("exchange/cli/", "exchange/testing/")):
            continue
        if "__all__" not in {t.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Assign)
                             for t in n.targets if isinstance(t, ast.Name)}:
            missing.append(relative)
    assert missing == []
