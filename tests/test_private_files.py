"""Every file the exchange writes is private: 0600, in folders it creates 0700."""

from __future__ import annotations

import asyncio
import os
import stat

from exchange.crypto.keys import KeyPair
from exchange.storage._files import make_private, open_private, private_folder
from exchange.storage.audit import AuditLog
from exchange.storage.feed_store import FeedStore
from exchange.storage.outbox import Outbox
from exchange.storage.registry import Registry


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_files_and_their_wal_are_created_private_even_under_a_lax_umask(tmp_path):
    old = os.umask(0o022)
    try:
        for kind in (FeedStore, AuditLog, Outbox, Registry):
            path = tmp_path / "new" / kind.__name__ / "file.db"

            async def touch(kind=kind, path=path):
                async with kind(path) as opened:
                    await opened.db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
                    await opened.db.execute("INSERT INTO probe VALUES (1)")
                    await opened.db.commit()
                    return {p.name: mode(p) for p in path.parent.iterdir()}  # -wal and -shm exist while open

            modes = asyncio.run(touch())
            assert {"file.db", "file.db-wal", "file.db-shm"} <= set(modes), kind.__name__
            assert set(modes.values()) == {0o600}, (kind.__name__, modes)
            assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    finally:
        os.umask(old)


def test_an_existing_file_is_tightened_and_written_files_are_private(tmp_path):
    loose = tmp_path / "loose.csv"
    loose.write_text("x")
    os.chmod(loose, 0o644)
    with open_private(loose, "w") as handle:
        handle.write("y")
    assert mode(loose) == 0o600 and loose.read_text() == "y"
    assert mode(make_private(tmp_path / "a" / "b" / "c.txt")) == 0o600
    assert mode(private_folder(tmp_path / "d" / "e")) == 0o700


def test_keys_generate_force_resets_the_mode_of_the_file_it_overwrites(tmp_path):
    path = tmp_path / "party.key"
    path.write_text("an old, world-readable file")
    os.chmod(path, 0o644)
    KeyPair.generate("party").save(path, "a passphrase of some length")
    assert mode(path) == 0o600
    assert KeyPair.load(path, "a passphrase of some length").name == "party"


def test_a_gazetteer_file_is_written_private(tmp_path):
    from exchange.testing.gazetteer import synthesise

    old = os.umask(0o022)
    try:
        synthesise(seed=3, out_db=tmp_path / "new" / "gazetteer.db")
    finally:
        os.umask(old)
    assert mode(tmp_path / "new" / "gazetteer.db") == 0o600 and mode(tmp_path / "new") == 0o700


def test_a_founded_registry_and_the_trust_anchor_file_are_private(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from exchange.cli import main
    from tests.support.governance import registry_with

    monkeypatch.chdir(tmp_path)  # no site file
    monkeypatch.delenv("EXCHANGE_CONFIG", raising=False)
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "registry.db"

        async def founded():
            registry = await registry_with(path)
            await registry.__aexit__(None, None, None)

        asyncio.run(founded())
        anchor = tmp_path / "published" / "trust-anchor.json"
        result = CliRunner().invoke(main, ["governance", "anchor", "--registry", str(path), "--out", str(anchor)],
                                    catch_exceptions=False)
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert mode(anchor) == 0o600 and mode(anchor.parent) == 0o700
