"""Signing at your own site: a decision is drafted against the registry's chain (--draft), each
deciding signatory signs the file with its own key file where it keeps it (`governance sign`),
and the registry's operator records it (`governance submit`). The key file never travels; a
signature made with the wrong key, or a draft overtaken by another decision, is refused."""

from __future__ import annotations

import json

from click.testing import CliRunner

from exchange.cli import main
from exchange.crypto.keys import KeyPair
from exchange.testing.partnership import COUNCIL, POLICE
from tests.support.partnership import PASSPHRASE

FIRE = "northshire-fire"


def _run(*args: str):
    return CliRunner().invoke(main, list(args), env={"EXCHANGE_KEY_PASSPHRASE": PASSPHRASE})


def _ok(*args: str) -> str:
    result = _run(*args)
    assert result.exit_code == 0, f"exchange {' '.join(args)}: {result.output}"
    return result.output


def test_founding_and_approving_with_signatures_made_at_each_site(demo_files, tmp_path):
    registry, key = str(tmp_path / "registry.db"), {p: str(path) for p, path in demo_files.keys.items()}
    founding = str(tmp_path / "founding.json")
    _ok("governance", "found", "--config", str(demo_files.partnership), "--registry", registry, "--role", "IG lead",
        "--draft", founding)
    refused = _run("governance", "submit", founding, "--registry", registry)  # nobody has signed yet
    assert refused.exit_code == 1 and "not signed by founding responsible authority" in refused.output
    _ok("governance", "sign", founding, "--key", key[POLICE], "--as", POLICE)
    _ok("governance", "sign", founding, "--key", key[COUNCIL], "--as", COUNCIL)
    assert len(json.loads(open(founding).read())["signatures"]) == 2
    _ok("governance", "submit", founding, "--registry", registry)

    fire = KeyPair.generate(FIRE).public.as_config()
    _ok("signatory", "propose", FIRE, "--name", "Northshire Fire and Rescue", "--kind", "co_operating_body",
        "--tier", "1", "--x25519", fire["x25519"], "--ed25519", fire["ed25519"], "--key", key[POLICE],
        "--role", "DLO", "--registry", registry)
    approval = str(tmp_path / "approval.json")
    _ok("signatory", "approve", FIRE, "--draft", approval, "--person", "C. Manager", "--role",
        "Community Safety Manager", "--registry", registry)
    # Signed "as the council" with the police key file: the registry refuses it.
    forged = str(tmp_path / "forged.json")
    with open(forged, "w") as out:
        out.write(open(approval).read())
    _ok("governance", "sign", forged, "--key", key[POLICE], "--as", COUNCIL)
    refused = _run("governance", "submit", forged, "--registry", registry)
    assert refused.exit_code == 1 and "no valid signature by northshire-council" in refused.output

    _ok("governance", "sign", approval, "--key", key[COUNCIL], "--as", COUNCIL)
    _ok("governance", "submit", approval, "--registry", registry)
    # The same signed approval again: not the next decision on the chain any more.
    stale = _run("governance", "submit", approval, "--registry", registry)
    assert stale.exit_code == 1 and "does not follow the chain" in stale.output
    shown = json.loads(_ok("governance", "show", "--registry", registry, "--json"))
    assert [(d["action"], d["signed_by"], d["person"]) for d in shown[-1:]] == [
        ("approve", [COUNCIL], "C. Manager")]
    awaiting = json.loads(_ok("signatory", "show", FIRE, "--registry", registry, "--json"))["awaiting_approval_from"]
    assert awaiting == [POLICE]
