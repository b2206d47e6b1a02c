"""One site config (`exchange --site FILE`, $EXCHANGE_CONFIG, ./exchange.toml): its keys are the
defaults of every command's options; and every command's options are documented, take -h, and
show their environment variables."""

from __future__ import annotations

import json
import os
import shutil

import click
import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.cli._common import SITE_ENVIRONMENT, site_defaults

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


# --- the site file gives the defaults ----------------------------------------------------------

def test_a_site_file_with_partnership_and_registry_makes_signatory_list_need_no_options(demo_files, tmp_path):
    site = site_file(tmp_path / "site.toml", partnership=str(demo_files.partnership), registry="registry.db")
    assert invoke("signatory", "list").exit_code == 2  # --config is required without a site file
    result = invoke("--site", site, "signatory", "list", "--json")
    assert {"northshire-police", "northshire-council"} <= signatory_ids(result)
    assert (tmp_path / "registry.db").is_file()


def test_defaults_from_the_site_satisfy_required_options(demo_files, tmp_path):
    site = site_file(tmp_path / "site.toml", partnership=str(demo_files.partnership), registry="r.db")
    missing = invoke("signatory", "show", "northshire-police")
    assert missing.exit_code == 2 and "Missing option '--config'" in missing.output
    shown = invoke("--site", site, "signatory", "show", "northshire-police")
    assert shown.exit_code == 0, shown.output
    assert "northshire-police" in shown.output


def test_site_option_beats_environment_beats_local_exchange_toml(demo_files, tmp_path):
    isp = str(demo_files.partnership)
    flag = site_file(tmp_path / "flag" / "site.toml", partnership=isp, registry="flag.db")
    env = site_file(tmp_path / "env" / "site.toml", partnership=isp, registry="env.db")
    site_file(tmp_path / "exchange.toml", partnership=isp, registry="local.db")

    signatory_ids(invoke("--site", flag, "signatory", "list", "--json", env={"EXCHANGE_CONFIG": env}))
    assert (tmp_path / "flag" / "flag.db").is_file() and not (tmp_path / "env" / "env.db").exists()
    signatory_ids(invoke("signatory", "list", "--json", env={"EXCHANGE_CONFIG": env}))
    assert (tmp_path / "env" / "env.db").is_file() and not (tmp_path / "local.db").exists()
    signatory_ids(invoke("signatory", "list", "--json"))
    assert (tmp_path / "local.db").is_file()


def test_an_option_on_the_command_line_beats_the_site_file(demo_files, tmp_path):
    site = site_file(tmp_path / "site.toml", partnership=str(demo_files.partnership), registry="site.db")
    signatory_ids(invoke("--site", site, "signatory", "list", "--json", "--registry", str(tmp_path / "mine.db")))
    assert (tmp_path / "mine.db").is_file() and not (tmp_path / "site.db").exists()


def test_relative_paths_resolve_against_the_site_files_folder(demo_files, tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    shutil.copy(demo_files.partnership, folder / "isp.toml")
    site = site_file(folder / "exchange.toml", partnership="isp.toml", registry="data/registry.db")
    (folder / "data").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    signatory_ids(invoke("--site", site, "signatory", "list", "--json"))
    assert (folder / "data" / "registry.db").is_file()
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


def test_security_and_passphrase_settings_become_environment_variables_unless_already_set(demo_files, tmp_path,
                                                                                         monkeypatch):
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


def test_a_passphrase_in_the_environment_is_not_overridden_by_the_sites_file(demo_files, tmp_path, monkeypatch):
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


# --- the IG lead's flow: admit and suspend an agency --------------------------------------------

def test_admit_and_suspend_with_a_site_file_takes_12_options_instead_of_25(tmp_path, monkeypatch):
    import datetime as dt

    import exchange.transport.acl_broker as acl_broker
    from tests.support.governance import OFFENCE, S115, config_mapping, keys
    from tests.test_governance_cli import FakeBroker

    broker = FakeBroker()
    for name in ("describe_acls", "create_acls", "delete_acls"):
        monkeypatch.setattr(acl_broker, name, getattr(broker, name))
    monkeypatch.setenv("EXCHANGE_ACTOR", "ig-lead")
    k = keys()
    lines = ['[partnership]\nname = "Northshire CSP"\n', f'[sanitiser]\nx25519 = "{k["x25519"]}"\n'
             f'ed25519 = "{k["ed25519"]}"\n']
    for s in config_mapping(grants=[])["signatory"]:
        supplies = ", ".join(f'"{d}"' for d in s.get("supplies", []))
        lines.append(f'[[signatory]]\nid = "{s["id"]}"\nname = "{s["name"]}"\nkind = "{s["kind"]}"\n'
                     f'tier = {s["tier"]}\nstatus = "{s["status"]}"\nsupplies = [{supplies}]\n'
                     f'x25519 = "{s["x25519"]}"\ned25519 = "{s["ed25519"]}"\n')
    (tmp_path / "isp.toml").write_text("\n".join(lines))
    site_file(tmp_path / "exchange.toml", partnership="isp.toml", registry="registry.db", bootstrap="fake:9092")
    expires = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    flow = [
        ("signatory", "propose", "housing", "--name", "Northshire Homes", "--kind", "co_operating_body", "--tier", "1",
         "--x25519", k["x25519"], "--ed25519", k["ed25519"]),
        ("signatory", "approve", "housing", "--by", "police"),
        ("signatory", "approve", "housing", "--by", "council"),
        ("acl", "grant", "housing", OFFENCE, "--purpose", "Tenancy enforcement", "--legal-basis", S115,
         "--approved-by", "police", "--expires", expires),
        ("acl", "apply"),
        ("signatory", "suspend", "housing", "--reason", "Breach of ISP clause 7"),
    ]
    for args in flow:
        result = invoke(*args)
        assert result.exit_code == 0, (args, result.output)
    assert sum(arg.startswith("--") for args in flow for arg in args) == 12
    assert "fake:9092" in {call[1] for call in broker.calls if call[0] == "describe"}
    assert "SUSPENDED" in invoke("signatory", "show", "housing").output
    # Without the site file each of the six commands also needs --config and --registry, and
    # acl apply --bootstrap: 12 + 6 * 2 + 1 = 25.
