"""exchange keys ..."""

from __future__ import annotations

import click

from exchange.cli._common import ExchangeGroup, emit
from exchange.crypto.keys import KeyPair, passphrase_from_environment


@click.group("keys", cls=ExchangeGroup)
def command() -> None:
    """Key pairs: X25519 (to receive sealed data keys) and Ed25519 (to sign), in
    passphrase-protected files. The passphrase comes from $EXCHANGE_KEY_PASSPHRASE_FILE,
    $EXCHANGE_KEY_PASSPHRASE, or a prompt."""


@command.command("generate")
@click.argument("name")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Key file to write (mode 0600).")
@click.option("--pseudonym-secret", is_flag=True,
              help="Also hold the partnership's pseudonym secret (the sanitiser's key file).")
@click.option("--force", is_flag=True, help="Overwrite an existing key file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
def generate(name: str, out: str, pseudonym_secret: bool, force: bool, as_json: bool) -> None:
    """Make a new key pair for NAME and print its public keys for the partnership config."""
    from pathlib import Path

    if Path(out).exists() and not force:
        raise click.ClickException(f"{out} exists; refusing to overwrite a key file without --force")
    keypair = KeyPair.generate(name, with_pseudonym_secret=pseudonym_secret)
    keypair.save(out, passphrase_from_environment(confirm=True))
    public = keypair.public.as_config()
    emit({"name": name, "key_file": out, **public}, as_json,
         f"# public keys of {name} (private keys in {out})\n"
         f"x25519 = \"{public['x25519']}\"\ned25519 = \"{public['ed25519']}\"")


@command.command("show")
@click.argument("key_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text.")
def show(key_file: str, as_json: bool) -> None:
    """Print the public keys held in KEY_FILE (checks the passphrase opens it)."""
    keypair = KeyPair.load(key_file, passphrase_from_environment())
    public = keypair.public.as_config()
    emit({"name": keypair.name, **public}, as_json,
         f"x25519 = \"{public['x25519']}\"\ned25519 = \"{public['ed25519']}\"")
