"""One site config (`exchange --site FILE`, $EXCHANGE_CONFIG, ./exchange.toml): its keys are the
defaults of every command's options; and every command's options are documented, take -h, and
show their environment variables."""

from __future__ import annotations

import asyncio
import json
import os
import shutil

import click
import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.cli._common import SITE_ENVIRONMENT, site_defaults
from exchange.crypto.keys import KeyPair
from exchange.testing.partnership import COUNCIL, POLICE

SECURITY_VARIABLES = sorted({name for names in SITE_ENVIRONMENT.values() for name in names})


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No site, registry or broker settings from the environment, and whatever the site sets is undone."""
    for name in ("EXCHANGE_CONFIG", "EXCHANGE_REGISTRY", "EXCHANGE_BOOTSTRAP", *SECURITY_VARIABLES):
        monkeypatch.setenv(name, "placeholder")  # so that undo restores the variable as it was
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no ./exchange.toml unless a test writes one


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def site_file(path, **settings) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items()))
    return str(path)


def signatory_ids(result) -> set[str]:
    assert result.exit_code == 0, result.output
    return {row["id"] for row in json.loads(result.stdout)}


def walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


ALL_COMMANDS = [path for path, _ in walk(main)]


def founded(path, demo_files, party_keys, *, marker: str | None = None) -> None:
    """A registry at `path` founded on the demo partnership by its responsible authorities; with
    `marker`, a signatory of that id proposed too, to tell this registry from another."""
    from exchange.services.governance import decide, found
    from exchange.storage.registry import Registry

    async def main() -> None:
        async with Registry(path) as registry:
            await found(registry, demo_files.partnership.read_text(encoding="utf-8"),
                        signers=[party_keys[POLICE], party_keys[COUNCIL]], person="IG lead", role="IG lead")
            if marker:
                await decide(registry, "propose", marker, {"name": marker, "kind": "other", "tier": 2,
                                                           **KeyPair.generate(marker).public.as_config()},
                             signers=[party_keys[POLICE]], person="DLO", role="Designated Liaison Officer")

    asyncio.run(main())


# --- the site file gives the defaults ----------------------------------------------------------

def test_a_site_file_with_partnership_and_registry_makes_signatory_list_need_no_options(demo_files, party_keys,
                                                                                       tmp_path):
    founded(tmp_path / "registry.db", demo_files, party_keys, marker="from-the-site")
    site = site_file(tmp_path / "site.toml", partnership=str(demo_files.partnership), registry="registry.db")
    missing = invoke("signatory", "list")
    assert missing.exit_code == 2 and "Missing option '--registry'" in missing.output  # required without a site
    result = invoke("--site", site, "signatory", "list", "--json")
    assert {"northshire-police", "northshire-council", "from-the-site"} <= signatory_ids(result)
    assert "registry: note" not in result.output  # the site's config is the one the chain was founded on


def test_defaults_from_the_site_satisfy_required_options(demo_files, party_keys, tmp_path):
    founded(tmp_path / "r.db", demo_files, party_keys)
    site = site_file(tmp_path / "site.toml", partnership=str(demo_files.partnership), registry="r.db")
    missing = invoke("signatory", "show", "northshire-police")
    assert missing.exit_code == 2 and "Missing option '--registry'" in missing.output
    shown = invoke("--site", site, "signatory", "show", "northshire-police")
    assert shown.exit_code == 0, shown.output
    assert "northshire-police" in shown.output


def test_site_option_beats_environment_beats_local_exchange_toml(demo_files, party_keys, tmp_path):
    isp = str(demo_files.partnership)
    for name, registry in (("flag", tmp_path / "flag" / "flag.db"), ("env", tmp_path / "env" / "env.db"),
                           ("local", tmp_path / "local.db")):
        founded(registry, demo_files, party_keys, marker=f"from-{name}")
    flag = site_file(tmp_path / "flag" / "site.toml", partnership=isp, registry="flag.db")
    env = site_file(tmp_path / "env" / "site.toml", partnership=isp, registry="env.db")
    site_file(tmp_path / "exchange.toml", partnership=isp, registry="local.db")
    markers = {"from-flag", "from-env", "from-local"}

    ids = signatory_ids(invoke("--site", flag, "signatory", "list", "--json", env={"EXCHANGE_CONFIG": env}))
    assert ids & markers == {"from-flag"}
    ids = signatory_ids(invoke("signatory", "list", "--json", env={"EXCHANGE_CONFIG": env}))
    assert ids & markers == {"from-env"}
    assert signatory_ids(invoke("signatory", "list", "--json")) & markers == {"from-local"}


def test_an_option_on_the_command_line_beats_the_site_file(demo_files, party_keys, tmp_path):
    founded(tmp_path / "site.db", demo_files, party_keys, marker="from-the-site")
    founded(tmp_path / "mine.db", demo_files, party_keys, marker="from-the-command-line")
    site = site_file(tmp_path / "site.toml", partnership=str(demo_files.partnership), registry="site.db")
    ids = signatory_ids(invoke("--site", site, "signatory", "list", "--json", "--registry", str(tmp_path / "mine.db")))
    assert "from-the-command-line" in ids and "from-the-site" not in ids


def test_relative_paths_resolve_against_the_site_files_folder(demo_files, party_keys, tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    shutil.copy(demo_files.partnership, folder / "isp.toml")
    site = site_file(folder / "exchange.toml", partnership="isp.toml", registry="data/registry.db")
    (folder / "data").mkdir()
    founded(folder / "data" / "registry.db", demo_files, party_keys, marker="in-the-sites-folder")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert "in-the-sites-folder" in signatory_ids(invoke("--site", site, "signatory", "list", "--json"))
    assert not list(elsewhere.iterdir())


def test_the_default_map_follows_parameter_names_except_where_they_mean_something_else():
    settings = {"partnership": "/s/isp.toml", "registry": "/s/r.db", "key_file": "/s/k.key", "signatory": "council",
                "bootstrap": "kafka:9093", "feed_db": "/s/feed.db", "audit": "/s/audit.db"}
    defaults = site_defaults(main, settings)
    assert defaults["feed"]["run"] == {"config_path": "/s/isp.toml", "signatory": "council", "db_path": "/s/feed.db",
                                       "key_file": "/s/k.key", "bootstrap": "kafka:9093", "audit_path": "/s/audit.db"}
    assert defaults["acl"]["apply"]["bootstrap"] == "kafka:9093"
    assert "bootstrap" not in defaults["acl"]["plan"]  # there --bootstrap asks to read the broker
    assert "config_path" not in defaults["agent"]["submit"]  # the agent's mapping, not the ISP config
    assert defaults["audit"]["show"] == {"db_path": "/s/audit.db"}
    assert "key_file" not in defaults["sanitise"]
    assert defaults["briefing"]["signatory"] == "council" and defaults["briefing"]["serve"]["db_path"] == "/s/feed.db"
    assert "keys" not in defaults  # `keys show KEY_FILE` takes an argument, which a site never supplies
    # The site's key file signs its signatory's governance decisions; founding takes every founder's, named.
    for path in (("signatory", "propose"), ("signatory", "approve"), ("signatory", "suspend"), ("acl", "grant"),
                 ("acl", "revoke")):
        assert defaults[path[0]][path[1]]["key_file"] == "/s/k.key"
    assert defaults["governance"]["found"] == {"config_path": "/s/isp.toml", "registry_path": "/s/r.db"}


def test_security_and_passphrase_settings_become_environment_variables_unless_already_set(demo_files, party_keys,
                                                                                         tmp_path, monkeypatch):
    founded(tmp_path / "r.db", demo_files, party_keys)
    site = site_file(tmp_path / "site.toml", partnership=str(demo_files.partnership), registry="r.db",
                     security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="council",
                     sasl_password_file="secrets/sasl", ssl_cafile="ca.pem", passphrase_file="secrets/pass")
    monkeypatch.setenv("EXCHANGE_SASL_USERNAME", "from-the-environment")
    signatory_ids(invoke("--site", site, "signatory", "list", "--json"))
    assert os.environ["EXCHANGE_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert os.environ["EXCHANGE_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert os.environ["EXCHANGE_SASL_USERNAME"] == "from-the-environment"
    assert os.environ["EXCHANGE_SASL_PASSWORD_FILE"] == str(tmp_path / "secrets" / "sasl")
    assert os.environ["EXCHANGE_SSL_CAFILE"] == str(tmp_path / "ca.pem")
    assert os.environ["EXCHANGE_KEY_PASSPHRASE_FILE"] == str(tmp_path / "secrets" / "pass")


def test_a_passphrase_in_the_environment_is_not_overridden_by_the_sites_file(demo_files, party_keys, tmp_path,
                                                                             monkeypatch):
    founded(tmp_path / "r.db", demo_files, party_keys)
    site = site_file(tmp_path / "site.toml", partnership=str(demo_files.partnership), registry="r.db",
                     passphrase_file="pass")
    monkeypatch.setenv("EXCHANGE_KEY_PASSPHRASE", "typed")
    signatory_ids(invoke("--site", site, "signatory", "list", "--json"))
    assert "EXCHANGE_KEY_PASSPHRASE_FILE" not in os.environ


def test_the_example_site_file_is_valid():
    from exchange.cli._common import load_site
    from tests.support.partnership import repo_root

    settings = load_site(repo_root() / "config" / "exchange.toml")
    assert settings["partnership"] == str((repo_root() / "config" / "partnership.toml").resolve())
    assert settings["signatory"] == "northshire-council"


# --- a bad site file is one line, exit 1 -------------------------------------------------------

@pytest.mark.parametrize(("content", "key", "why"), [
    ('registry = "r.db"\ncolour = "blue"\n', "colour", "extra inputs are not permitted"),
    ("registry = 3\n", "registry", "valid string"),
    ('security_protocol = "TLS"\n', "security_protocol", "input should be"),
    ('signatory = "Not An Id"\n', "signatory", "pattern"),
])
def test_a_bad_key_in_the_site_file_is_one_line_naming_file_and_key(tmp_path, content, key, why):
    path = tmp_path / "site.toml"
    path.write_text(content)
    result = invoke("--site", str(path), "signatory", "list")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: site config {path}: {key}: ") and why in lines[0]


@pytest.mark.parametrize(("content", "why"), [(None, "no such file"), ("registry = \n", "not valid TOML")])
def test_a_missing_or_malformed_site_file_is_one_line_exit_1(tmp_path, content, why):
    path = tmp_path / "site.toml"
    if content is not None:
        path.write_text(content)
    result = invoke("schemas", "list", env={"EXCHANGE_CONFIG": str(path)})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith(f"error: site config {path}: {why}")


# --- every command: documented, -h, environment variables shown --------------------------------

def test_every_option_of_every_command_has_help_text():
    undocumented = [f"exchange {' '.join(path)} {option.opts[0]}" for path, command in walk(main)
                    for option in command.params if isinstance(option, click.Option) and not option.help]
    assert not undocumented


def test_every_option_with_an_environment_variable_shows_it_in_help():
    hidden = [f"exchange {' '.join(path)} {option.opts[0]}" for path, command in walk(main)
              for option in command.params if isinstance(option, click.Option) and option.envvar
              and not option.show_envvar]
    assert not hidden
    assert "[env var: EXCHANGE_REGISTRY; required]" in " ".join(invoke("signatory", "list", "--help").output.split())


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda path: " ".join(path) or "exchange")
def test_minus_h_works_on_every_command(path):
    result = invoke(*path, "-h")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")


# --- the IG lead's flow: found the chain, admit and suspend an agency ------------------------------

def test_found_admit_and_suspend_with_a_site_file_takes_18_options_instead_of_31(tmp_path, monkeypatch):
    import datetime as dt

    import exchange.transport.acl_broker as acl_broker
    from tests.support.governance import OFFENCE, S115, config_mapping, config_toml, keypair, keys
    from tests.support.partnership import PASSPHRASE
    from tests.test_governance_cli import FakeBroker

    broker = FakeBroker()
    for name in ("describe_acls", "create_acls", "delete_acls"):
        monkeypatch.setattr(acl_broker, name, getattr(broker, name))
    monkeypatch.setenv("EXCHANGE_ACTOR", "ig-lead")
    (tmp_path / "isp.toml").write_text(config_toml(config_mapping(grants=[])))
    for party in ("police", "council"):
        keypair(party).save(tmp_path / f"{party}.key", PASSPHRASE)
    (tmp_path / "passphrase").write_text(PASSPHRASE + "\n")
    # The police site: its key file signs the police's decisions; the council signs with its own.
    site_file(tmp_path / "exchange.toml", partnership="isp.toml", registry="registry.db", bootstrap="fake:9092",
              key_file="police.key", passphrase_file="passphrase")
    k = keys("housing")
    expires = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    flow = [
        ("governance", "found", "--key", "police.key", "--key", "council.key", "--role", "Partnership IG lead"),
        ("signatory", "propose", "housing", "--name", "Northshire Homes", "--kind", "co_operating_body", "--tier", "1",
         "--x25519", k["x25519"], "--ed25519", k["ed25519"], "--role", "DLO"),
        ("signatory", "approve", "housing", "--role", "DLO"),
        ("signatory", "approve", "housing", "--key", "council.key", "--role", "Community Safety Manager"),
        ("acl", "grant", "housing", OFFENCE, "--purpose", "Tenancy enforcement", "--legal-basis", S115,
         "--expires", expires, "--role", "DLO"),
        ("acl", "apply"),
        ("signatory", "suspend", "housing", "--reason", "Breach of ISP clause 7", "--role", "DLO"),
    ]
    for args in flow:
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    assert sum(arg.startswith("--") for args in flow for arg in args) == 18
    assert "fake:9092" in {call[1] for call in broker.calls if call[0] == "describe"}
    shown = invoke("signatory", "show", "housing")
    assert "SUSPENDED" in shown.output
    assert "by ig-lead (DLO) for police" in shown.output  # signed with the site's key file, for the police
    assert "by ig-lead (Community Safety Manager) for council" in shown.output
    # Without the site file: governance found also needs --config and --registry; each of the five
    # decisions --registry, and the four the police sign --key; acl apply --registry and
    # --bootstrap: 18 + 2 + 5 + 4 + 2 = 31.
