"""Static checks of docker/, the production deployment on Apache Kafka (KRaft, SASL/SCRAM over
TLS, ACLs). No Docker engine is needed or used: the compose file is parsed, the broker's
entrypoint renders its server.properties in dry mode, kafka-init runs in dry mode, and the
secrets script makes real TLS material that a Python TLS client must accept.

What this cannot check (images building, Kafka accepting the config, SCRAM logins and ACL
decisions end to end) is listed in docker/README.md.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import socket
import ssl
import stat
import subprocess
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"
KAFKA_SCRIPTS = DOCKER / "kafka"

# The exchange's subcommands (`exchange <name> ...`): a service's command must start with one.
SUBCOMMANDS = {
    "broker", "agent", "sanitiser", "feed", "acl", "keys", "signatory", "audit",
    "gazetteer", "demo", "schemas", "sanitise",
}
REQUIRED_SERVICES = {"kafka", "kafka-init", "sanitiser", "feed-council", "acl-apply"}
EXCHANGE_SERVICES = ("acl-apply", "sanitiser", "feed-council")
TOPIC_PREFIXES = ("raw.", "keys.raw.", "shared.", "keys.shared.", "restricted.", "keys.restricted.")

BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


# ----------------------------------------------------------------------------- helpers


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$\$")


def interpolate(value):
    """Compose variable substitution with every variable unset: ${X:-default} gives default."""
    if isinstance(value, str):
        def substitute(match: re.Match) -> str:
            if match.group(0) == "$$":
                return "$"
            return match.group(3) or ""
        return _VARIABLE.sub(substitute, value)
    if isinstance(value, dict):
        return {key: interpolate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item) for item in value]
    return value


@pytest.fixture(scope="module")
def compose() -> dict:
    yaml = pytest.importorskip("yaml")
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)  # YAML merge keys (<<) are resolved by the loader
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return interpolate(data)


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


def services(compose: dict) -> dict:
    return compose["services"]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def command(service: dict) -> list[str]:
    cmd = service.get("command")
    if cmd is None:
        return []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def secret_targets(service: dict) -> dict[str, str]:
    """Secret file name inside the container (/run/secrets/<target>) -> top-level secret."""
    targets = {}
    for entry in service.get("secrets") or []:
        if isinstance(entry, str):
            targets[entry] = entry
        else:
            targets[entry.get("target", entry["source"])] = entry["source"]
    return targets


def mounted_secret(service: dict, path: str) -> str | None:
    """The top-level secret a container path refers to, if it is one the service mounts."""
    prefix = "/run/secrets/"
    if not path.startswith(prefix):
        return None
    return secret_targets(service).get(path[len(prefix):])


def option(cmd: list[str], name: str) -> str | None:
    if name in cmd:
        index = cmd.index(name)
        return cmd[index + 1] if index + 1 < len(cmd) else None
    return None


def uses_exchange_image(service: dict) -> bool:
    build = service.get("build")
    dockerfile = build.get("dockerfile", "") if isinstance(build, dict) else ""
    return dockerfile.endswith("docker/Dockerfile") or "csp-exchange" in str(service.get("image", ""))


def kafka_environment(compose: dict) -> dict[str, str]:
    return environment(services(compose)["kafka"])


def render_kafka_properties(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the broker entrypoint's --render mode (no storage, no secrets read)."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return subprocess.run([BASH, str(KAFKA_SCRIPTS / "entrypoint.sh"), "--render"], env=full_env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def broker_properties(compose) -> dict[str, str]:
    if BASH is None:
        pytest.skip("bash is not installed")
    result = render_kafka_properties(kafka_environment(compose))
    assert result.returncode == 0, result.stderr
    properties = {}
    for line in result.stdout.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        assert key not in properties, f"{key} rendered twice"
        properties[key.strip()] = value.strip()
    return properties


def listeners(properties: dict[str, str]) -> dict[str, tuple[str, int]]:
    """listeners=NAME://host:port,... -> {name: (host, port)}"""
    result = {}
    for entry in properties["listeners"].split(","):
        name, _, address = entry.strip().partition("://")
        host, _, port = address.rpartition(":")
        result[name.upper()] = (host, int(port))
    return result


def protocol_map(properties: dict[str, str]) -> dict[str, str]:
    return {name.strip().upper(): protocol.strip().upper()
            for name, protocol in (entry.split(":") for entry in
                                   properties["listener.security.protocol.map"].split(","))}


def enabled_mechanisms(properties: dict[str, str], listener: str) -> set[str]:
    value = properties.get(f"listener.name.{listener.lower()}.sasl.enabled.mechanisms",
                           properties.get("sasl.enabled.mechanisms", "GSSAPI"))
    return {mechanism.strip().upper() for mechanism in value.split(",") if mechanism.strip()}


def published_ports(service: dict) -> list[tuple[str, str, str]]:
    """(host_ip, published, target) for each port, short or long syntax."""
    ports = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.append((str(entry.get("host_ip", "0.0.0.0")), str(entry.get("published", "")),
                          str(entry["target"])))
            continue
        spec = str(entry).split("/")[0]
        parts = spec.rsplit(":", 2)
        if len(parts) == 3:
            ports.append((parts[0].strip("[]"), parts[1], parts[2]))
        elif len(parts) == 2:
            ports.append(("0.0.0.0", parts[0], parts[1]))
        else:
            ports.append(("0.0.0.0", "", parts[0]))
    return ports


# ----------------------------------------------------------------------------- compose: shape


def test_compose_parses_and_has_the_services(compose):
    assert REQUIRED_SERVICES <= set(services(compose))


def test_kafka_is_apache_kafka_3_9(compose):
    kafka = services(compose)["kafka"]
    assert str(kafka["image"]).startswith("apache/kafka:3.9.")
    assert kafka.get("healthcheck", {}).get("test"), "kafka needs a healthcheck"
    assert not kafka["healthcheck"].get("disable", False)


def test_service_commands_start_with_a_real_subcommand(compose):
    exchange_services = [name for name, svc in services(compose).items() if uses_exchange_image(svc)]
    assert set(EXCHANGE_SERVICES) <= set(exchange_services)
    for name in exchange_services:
        cmd = command(services(compose)[name])
        assert cmd, f"{name} has no command"
        assert cmd[0] in SUBCOMMANDS, f"{name}: {cmd[0]!r} is not an exchange subcommand"


def test_the_exchange_commands(compose):
    svc = services(compose)
    assert command(svc["sanitiser"]) == [
        "sanitiser", "run", "--config", "/etc/exchange/partnership.toml",
        "--keys", "/run/secrets/sanitiser.key", "--gazetteer", "/data/gazetteer.db",
        "--audit", "/data/sanitiser-audit.db"]
    assert command(svc["feed-council"]) == [
        "feed", "run", "--config", "/etc/exchange/partnership.toml", "--as", "northshire-council",
        "--db", "/data/feed.db", "--keys", "/run/secrets/council.key"]
    assert command(svc["acl-apply"]) == ["acl", "apply", "--config", "/etc/exchange/partnership.toml"]


def test_config_and_data_mounts(compose):
    for name in EXCHANGE_SERVICES:
        volumes = [str(volume) for volume in services(compose)[name].get("volumes") or []]
        config = [volume for volume in volumes if volume.split(":")[1:2] == ["/etc/exchange"]]
        assert config and config[0].endswith(":ro"), f"{name}: partnership config not mounted read-only"
    for name in ("sanitiser", "feed-council"):
        volumes = [str(volume) for volume in services(compose)[name].get("volumes") or []]
        assert any(volume.split(":")[1:2] == ["/data"] for volume in volumes), f"{name}: no /data volume"


def test_depends_on_uses_conditions(compose):
    svc = services(compose)
    for name, service in svc.items():
        depends = service.get("depends_on")
        if depends is not None:
            assert isinstance(depends, dict), f"{name}: depends_on without conditions"
            for target, spec in depends.items():
                assert target in svc
                assert isinstance(spec, dict) and spec.get("condition"), f"{name} -> {target}: no condition"
    assert svc["kafka-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert svc["acl-apply"]["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    for name in ("sanitiser", "feed-council"):
        depends = svc[name]["depends_on"]
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends["kafka-init"]["condition"] == "service_completed_successfully"
        assert depends["acl-apply"]["condition"] == "service_completed_successfully"


def test_containers_are_hardened(compose):
    for name, service in services(compose).items():
        assert service.get("read_only") is True, f"{name}: root filesystem not read-only"
        assert "ALL" in (service.get("cap_drop") or []), f"{name}: capabilities not dropped"
        assert not service.get("privileged"), f"{name} is privileged"
        assert service.get("network_mode") != "host", f"{name} uses the host network"
        assert any("no-new-privileges" in str(opt) for opt in service.get("security_opt") or []), name
        user = str(service.get("user", ""))
        assert user.split(":")[0] not in ("0", "root"), f"{name} runs as root"
    for name in EXCHANGE_SERVICES:
        user = str(services(compose)[name].get("user", ""))
        assert user and user.split(":")[0] not in ("0", "root")


# ----------------------------------------------------------------------------- the broker


def test_kafka_is_single_node_kraft(broker_properties):
    assert set(broker_properties["process.roles"].split(",")) == {"broker", "controller"}
    assert broker_properties["node.id"] == "1"
    assert "zookeeper.connect" not in broker_properties
    controllers = broker_properties["controller.listener.names"].upper().split(",")
    assert set(controllers) <= set(listeners(broker_properties))
    assert broker_properties["controller.quorum.voters"].startswith("1@")
    inter_broker = broker_properties["inter.broker.listener.name"].upper()
    assert inter_broker in listeners(broker_properties) and inter_broker not in controllers


def test_every_listener_is_sasl_ssl(broker_properties):
    mapping = protocol_map(broker_properties)
    assert set(listeners(broker_properties)) <= set(mapping)
    for name in listeners(broker_properties):
        assert mapping[name] == "SASL_SSL", f"listener {name} is {mapping[name]}"
    assert "PLAINTEXT" not in broker_properties["listener.security.protocol.map"].upper()
    assert "PLAINTEXT://" not in broker_properties["listeners"].upper()
    assert "PLAINTEXT://" not in broker_properties.get("advertised.listeners", "").upper()


def test_client_listener_is_sasl_ssl_scram_sha_512_on_9093(broker_properties):
    on_9093 = [name for name, (_, port) in listeners(broker_properties).items() if port == 9093]
    assert len(on_9093) == 1
    client = on_9093[0]
    assert protocol_map(broker_properties)[client] == "SASL_SSL"
    assert enabled_mechanisms(broker_properties, client) == {"SCRAM-SHA-512"}
    jaas = broker_properties[f"listener.name.{client.lower()}.scram-sha-512.sasl.jaas.config"]
    assert "ScramLoginModule required" in jaas
    assert broker_properties["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    # The broker's own listeners bind to the container's loopback only.
    for name, (host, _) in listeners(broker_properties).items():
        if name != client:
            assert host in ("localhost", "127.0.0.1"), f"{name} listens on {host}"


def test_every_sasl_listener_has_its_jaas_and_no_password_is_rendered(broker_properties):
    for name in listeners(broker_properties):
        for mechanism in enabled_mechanisms(broker_properties, name):
            key = f"listener.name.{name.lower()}.{mechanism.lower()}.sasl.jaas.config"
            assert key in broker_properties, f"no JAAS config for {name}/{mechanism}"
    for key, value in broker_properties.items():
        for password in re.findall(r'password="([^"]*)"', value):
            assert password == "********", f"{key} carries a literal password"
        if key.endswith(".password"):
            assert value == "********", f"{key} is not taken from a secret"


def test_kafka_tls_material_comes_from_secrets(compose, broker_properties):
    kafka = services(compose)["kafka"]
    for key in ("ssl.keystore.location", "ssl.truststore.location"):
        assert mounted_secret(kafka, broker_properties[key]), f"{key} is not a mounted secret"
    assert broker_properties["ssl.endpoint.identification.algorithm"] == "https"
    assert "kafka_keystore_password" in secret_targets(kafka)
    assert "kafka_admin_password" in secret_targets(kafka)


def test_acls_deny_by_default(broker_properties):
    assert broker_properties["authorizer.class.name"] == \
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert broker_properties["allow.everyone.if.no.acl.found"] == "false"
    assert {user.strip() for user in broker_properties["super.users"].split(";")} == {"User:admin"}
    assert broker_properties["auto.create.topics.enable"] == "false"


def test_broker_is_ready_for_idempotence_and_transactions(broker_properties):
    # Single node: the internal topics must not ask for more replicas than exist.
    assert broker_properties["transaction.state.log.replication.factor"] == "1"
    assert broker_properties["transaction.state.log.min.isr"] == "1"
    assert broker_properties["offsets.topic.replication.factor"] == "1"


@needs_bash
def test_entrypoint_refuses_a_password_from_the_environment(compose):
    for variable in ("KAFKA_SSL_KEYSTORE_PASSWORD",
                     "KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG"):
        env = {**kafka_environment(compose), variable: "literal-secret-value"}
        result = render_kafka_properties(env)
        assert result.returncode != 0, f"{variable} was accepted"
        assert "secrets" in result.stderr
        assert "literal-secret-value" not in result.stdout + result.stderr


def test_only_the_client_port_is_published_on_loopback(compose, broker_properties):
    for name, service in services(compose).items():
        ports = published_ports(service)
        if name != "kafka":
            assert not ports, f"{name} publishes {ports}"
            assert not service.get("expose"), f"{name} exposes ports"
            continue
        assert len(ports) == 1, ports
        host_ip, published, target = ports[0]
        assert host_ip == "127.0.0.1"
        assert target == "9093" and published == "9093"
    client = [n for n, (_, port) in listeners(broker_properties).items() if port == 9093][0]
    assert protocol_map(broker_properties)[client] == "SASL_SSL"


# ----------------------------------------------------------------------------- secrets


_SENSITIVE = re.compile(r"PASSWORD|PASSPHRASE|SECRET|JAAS|CREDENTIAL|TOKEN", re.IGNORECASE)
# key=value or key: value on one line, where the key names a password and the value is there.
_LITERAL_PASSWORD = re.compile(
    r"""(?:password|passphrase|passwd|pwd|secret|user_[A-Za-z0-9-]+)[ \t]*[=:][ \t]*["']?([^\s"'#,\]]+)""",
    re.IGNORECASE)


def literal_passwords(text: str) -> list[str]:
    """Password-like assignments with a literal value in YAML content (comments removed)."""
    found = []
    for line in text.splitlines():
        content = re.sub(r"(^|\s)#.*$", "", line)
        for value in _LITERAL_PASSWORD.findall(content):
            if not value.startswith(("/run/secrets/", "$", "*")):
                found.append(line.strip())
    return found


def test_no_literal_passwords_in_compose(compose, compose_text):
    for name, service in services(compose).items():
        for key, value in environment(service).items():
            if _SENSITIVE.search(key):
                assert key.endswith("_FILE"), f"{name}: {key} should be a *_FILE setting"
                assert value.startswith("/run/secrets/"), f"{name}: {key}={value}"
                assert mounted_secret(service, value), f"{name}: {value} is not a mounted secret"
        assert not service.get("env_file"), f"{name}: env_file may hide literals; use secrets"
    found = literal_passwords(compose_text)
    assert not found, f"literal password-like values in compose.yaml: {found}"


def test_the_literal_password_check_catches_literals():
    assert literal_passwords('      KAFKA_SSL_KEYSTORE_PASSWORD: "changeit"')
    assert literal_passwords("    command: kafka-configs --add-config 'SCRAM-SHA-512=[password=s3cret]'")
    assert literal_passwords('      JAAS: PlainLoginModule required user_admin="admin-secret";')
    assert not literal_passwords("  kafka_admin_password:\n    file: ./secrets/kafka_admin_password")
    assert not literal_passwords("      EXCHANGE_SASL_PASSWORD_FILE: /run/secrets/scram_sanitiser")
    assert not literal_passwords("# every password: a docker secret")


def test_every_secret_is_a_git_ignored_file(compose):
    secrets = compose.get("secrets") or {}
    assert secrets
    for name, spec in secrets.items():
        assert set(spec) == {"file"}, f"secret {name} must come from a file, not {sorted(spec)}"
        path = (DOCKER / spec["file"]).resolve()
        assert path.parent == (DOCKER / "secrets").resolve(), f"{name}: {spec['file']} outside secrets/"
        assert path.name != "README.md"
        relative = path.relative_to(DOCKER).as_posix()
        assert gitignore_ignores(DOCKER / ".gitignore", relative), f"{relative} is not git-ignored"


def test_exchange_services_connect_with_sasl_ssl_and_secret_files(compose):
    svc = services(compose)
    for name in EXCHANGE_SERVICES:
        service = svc[name]
        env = environment(service)
        assert env["EXCHANGE_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["EXCHANGE_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        assert env["EXCHANGE_BOOTSTRAP"].endswith(":9093"), name
        assert env.get("EXCHANGE_SASL_USERNAME"), name
        for key in ("EXCHANGE_SSL_CAFILE", "EXCHANGE_SASL_PASSWORD_FILE"):
            assert mounted_secret(service, env[key]), f"{name}: {key}={env[key]} is not a mounted secret"
        for forbidden in ("EXCHANGE_SASL_PASSWORD", "EXCHANGE_KEY_PASSPHRASE"):
            assert forbidden not in env, f"{name}: {forbidden} would be a literal; use the _FILE form"
        keys = option(command(service), "--keys")
        if keys is not None:
            assert mounted_secret(service, keys), f"{name}: --keys {keys} is not a mounted secret"
            assert mounted_secret(service, env.get("EXCHANGE_KEY_PASSPHRASE_FILE", "")), \
                f"{name}: a key file without EXCHANGE_KEY_PASSPHRASE_FILE from a secret"
        assert env.get("EXCHANGE_SCHEMA_DIR", "/app/schemas/avro") == "/app/schemas/avro"
    assert option(command(svc["sanitiser"]), "--keys") and option(command(svc["feed-council"]), "--keys")


def test_kafka_init_creates_the_users_the_services_log_in_as(compose):
    svc = services(compose)
    init_secrets = secret_targets(svc["kafka-init"])
    assert "kafka_admin_password" in init_secrets
    for name in EXCHANGE_SERVICES:
        env = environment(svc[name])
        user = env["EXCHANGE_SASL_USERNAME"]
        assert user != "admin", f"{name} must not log in as the super user"
        source = mounted_secret(svc[name], env["EXCHANGE_SASL_PASSWORD_FILE"])
        assert init_secrets.get(f"scram_{user}") == source, \
            f"kafka-init does not create {user} with the password {name} uses"


def test_idempotence_switch_is_present_but_commented_out(compose, compose_text):
    assert re.search(r"^\s*#\s*EXCHANGE_KAFKA_IDEMPOTENCE:\s*\"?true\"?\s*$", compose_text, re.MULTILINE)
    assert "untested" in compose_text.lower()
    for name, service in services(compose).items():
        assert "EXCHANGE_KAFKA_IDEMPOTENCE" not in environment(service), name


# ----------------------------------------------------------------------------- kafka-init


def run_init_dry(tmp_path: Path, compose: dict, datasets: str | None = None) -> tuple[str, dict[str, str]]:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    passwords = {}
    for target in secret_targets(services(compose)["kafka-init"]):
        if target == "kafka_admin_password" or target.startswith("scram_"):
            password = f"{target.replace('_', '')}0123456789abcdef"
            (secrets_dir / target).write_text(password + "\n")
            passwords[target] = password
    env = {key: value for key, value in environment(services(compose)["kafka-init"]).items()}
    if datasets is not None:
        env["INIT_DATASETS"] = datasets
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), SECRETS_DIR=str(secrets_dir),
               TMPDIR=str(tmp_path), INIT_DRY_RUN="1", KAFKA_BIN="/opt/kafka/bin")
    result = subprocess.run([BASH, str(KAFKA_SCRIPTS / "init.sh")], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr, passwords


@needs_bash
def test_kafka_init_dry_run_creates_users_topics_and_acl_admin(tmp_path, compose):
    output, passwords = run_init_dry(tmp_path, compose)
    for password in passwords.values():
        assert password not in output, "kafka-init printed a password"
    users = {target[len("scram_"):] for target in passwords if target.startswith("scram_")}
    assert users >= {"sanitiser", "northshire-council", "acl-admin"}
    for user in users:
        assert re.search(rf"kafka-configs\.sh .*--entity-type users --entity-name {re.escape(user)} "
                         r"--add-config SCRAM-SHA-512=\[", output), user
    topics = set(re.findall(r"--create --if-not-exists --topic (\S+)", output))
    assert topics == {prefix + "police_crime_offence" for prefix in TOPIC_PREFIXES} | {"deadletter.sanitiser"}
    for line in (line for line in output.splitlines() if "--create --if-not-exists --topic" in line):
        key_topic = re.search(r"--topic (\S+)", line).group(1).startswith("keys.")
        compacted = "--config cleanup.policy=compact --config retention.ms=-1" in line
        assert compacted == key_topic, line  # key topics compacted and kept for ever, the others not
    assert "--allow-principal User:acl-admin --operation Alter --operation Describe --cluster" in output
    assert "--bootstrap-server kafka:9093" in output
    assert not list(tmp_path.glob("kafka-init.*")), "kafka-init left its admin config behind"


@needs_bash
def test_kafka_init_topics_for_several_datasets(tmp_path, compose):
    output, _ = run_init_dry(tmp_path, compose, datasets="police_crime_offence, council_asb")
    topics = set(re.findall(r"--create --if-not-exists --topic (\S+)", output))
    expected = {prefix + dataset for prefix in TOPIC_PREFIXES
                for dataset in ("police_crime_offence", "council_asb")}
    assert topics == expected | {"deadletter.sanitiser"}


# ----------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#") and current:
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        logical.append(current)
        current = ""
    instructions = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_base_user_and_entrypoint():
    instructions = dockerfile_instructions()
    args = {}
    for keyword, rest in instructions:
        if keyword == "ARG" and "=" in rest:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
    bases = [re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), rest.split()[0])
             for keyword, rest in instructions if keyword == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases), bases
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    users = [rest for keyword, rest in instructions[last_from:] if keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    assert users[-1].split(":")[0] not in ("root", "0"), users[-1]
    entrypoints = [rest for keyword, rest in instructions if keyword == "ENTRYPOINT"]
    assert entrypoints and entrypoints[-1].replace(" ", "") == '["exchange"]'


def test_dockerfile_installs_the_project_and_copies_schemas():
    instructions = dockerfile_instructions()
    copies = [rest for keyword, rest in instructions if keyword == "COPY"]
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    envs = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    assert any(c.split()[:2] == ["pyproject.toml", "README.md"] for c in copies), copies
    for package in ("exchange", "agents", "schemas", "config"):
        assert any(c.split()[0] == package for c in copies), f"{package} is not copied"
    assert re.search(r"pip install --no-cache-dir \.(\s|$)", runs)
    assert re.search(r"EXCHANGE_SCHEMA_DIR=/app/schemas/avro(\s|$)", envs)
    assert any(c.split()[-1].rstrip("/") == "/app/schemas" for c in copies), "schemas not copied to /app/schemas"
    assert (ROOT / "schemas" / "avro").is_dir()


# ----------------------------------------------------------------------------- ignore files


def _glob_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def _patterns(path: Path) -> list[tuple[bool, str]]:
    result = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        result.append((negated, line[1:] if negated else line))
    return result


def _gitignore_matches(patterns: list[tuple[bool, str]], path: str, is_dir: bool) -> bool:
    ignored = False
    name = path.rsplit("/", 1)[-1]
    for negated, pattern in patterns:
        if pattern.endswith("/") and not is_dir:
            continue
        pattern = pattern.rstrip("/")
        if "/" in pattern:  # anchored at the .gitignore's directory
            hit = bool(_glob_regex(pattern.lstrip("/")).match(path))
        else:
            hit = fnmatch.fnmatchcase(name, pattern)
        if hit:
            ignored = not negated
    return ignored


def gitignore_ignores(ignore_file: Path, relative: str) -> bool:
    """Enough of gitignore for docker/.gitignore: the last matching pattern decides, and a file
    whose directory is ignored stays ignored whatever a later '!' pattern says (as in git)."""
    patterns = _patterns(ignore_file)
    parts = relative.split("/")
    for n in range(1, len(parts)):
        if _gitignore_matches(patterns, "/".join(parts[:n]), is_dir=True):
            return True
    return _gitignore_matches(patterns, relative, is_dir=False)


def dockerignore_excludes(ignore_file: Path, relative: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    excluded = False
    parts = relative.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    for negated, pattern in _patterns(ignore_file):
        regex = _glob_regex(pattern.strip("/"))
        if any(regex.match(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def test_secrets_are_git_ignored_except_the_readme():
    ignore = DOCKER / ".gitignore"
    assert ignore.is_file()
    for name in ("ca.crt", "ca.key", "kafka.keystore.p12", "kafka_keystore_password",
                 "kafka_admin_password", "scram_sanitiser", "sanitiser.key", "council_key_passphrase"):
        assert gitignore_ignores(ignore, f"secrets/{name}"), name
    assert not gitignore_ignores(ignore, "secrets/README.md")
    assert (DOCKER / "secrets" / "README.md").is_file()
    assert not gitignore_ignores(ignore, "compose.yaml")


def test_build_context_keeps_secrets_out():
    ignore = DOCKER / "Dockerfile.dockerignore"
    assert ignore.is_file()
    for path in ("docker/secrets/ca.key", "docker/secrets/kafka_admin_password",
                 "docker/secrets/sanitiser.key", ".git/config", "demo-run/feed.db"):
        assert dockerignore_excludes(ignore, path), path
    for path in ("pyproject.toml", "README.md", "exchange/cli/__init__.py", "agents/agent.py",
                 "schemas/avro/police_crime_offence.avsc", "config/partnership.toml"):
        assert not dockerignore_excludes(ignore, path), path


# ----------------------------------------------------------------------------- scripts


@needs_bash
@pytest.mark.parametrize("script", ["make-secrets.sh", "kafka/entrypoint.sh", "kafka/init.sh",
                                    "kafka/healthcheck.sh", "kafka/common.sh"])
def test_shell_scripts_parse(script):
    result = subprocess.run([BASH, "-n", str(DOCKER / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compose_mounts_the_scripts_it_runs(compose):
    svc = services(compose)
    for name, script in (("kafka", "entrypoint.sh"), ("kafka-init", "init.sh")):
        entrypoint = svc[name]["entrypoint"]
        path = entrypoint[-1] if isinstance(entrypoint, list) else shlex.split(entrypoint)[-1]
        mounts = [str(volume).split(":") for volume in svc[name].get("volumes") or []]
        source = [m[0] for m in mounts if len(m) >= 2 and path.startswith(m[1].rstrip("/") + "/")]
        assert source, f"{name}: {path} is not mounted"
        assert (DOCKER / source[0] / script).is_file()
    healthcheck = " ".join(svc["kafka"]["healthcheck"]["test"])
    assert "healthcheck.sh" in healthcheck


def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, hostname: str) -> None:
    left, right = socket.socketpair()
    errors = []

    def serve():
        try:
            with server_ctx.wrap_socket(left, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with client_ctx.wrap_socket(right, server_hostname=hostname) as tls:
            tls.sendall(b"x")
    finally:
        thread.join(timeout=10)
        left.close()
        right.close()


@needs_bash
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_make_secrets_makes_tls_material_a_python_client_accepts(tmp_path):
    out = tmp_path / "secrets"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    run = subprocess.run([BASH, str(DOCKER / "make-secrets.sh"), "--dir", str(out), "--host", "kafka"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    for name in ("ca.crt", "kafka.keystore.p12", "kafka_keystore_password", "kafka_admin_password",
                 "scram_sanitiser", "scram_northshire-council", "scram_acl-admin",
                 "sanitiser_key_passphrase", "council_key_passphrase"):
        assert (out / name).is_file(), name
    for name in ("kafka_admin_password", "scram_sanitiser", "kafka_keystore_password"):
        assert re.fullmatch(r"[0-9a-f]{64}\n?", (out / name).read_text()), name
        assert stat.S_IMODE((out / name).stat().st_mode) & 0o007 == 0, f"{name} is world-readable"
    assert (out / "kafka_admin_password").read_text() != (out / "scram_sanitiser").read_text()

    # The keystore opens with its password; its certificate chains to the CA.
    pem = tmp_path / "kafka.pem"
    export = subprocess.run(["openssl", "pkcs12", "-in", str(out / "kafka.keystore.p12"), "-nodes",
                             "-passin", f"file:{out / 'kafka_keystore_password'}", "-out", str(pem)],
                            capture_output=True, text=True)
    assert export.returncode == 0, export.stderr

    # A client configured as exchange/kafka.py does (default context, cafile) accepts the broker
    # as "kafka" and as "localhost", and refuses any other name.
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(pem))
    client_ctx = ssl.create_default_context(cafile=str(out / "ca.crt"))
    _handshake(server_ctx, client_ctx, "kafka")
    _handshake(server_ctx, client_ctx, "localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(server_ctx, client_ctx, "not-the-broker.example")

    # Rerunning keeps every existing file (passwords already loaded into Kafka stay valid).
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    again = subprocess.run([BASH, str(DOCKER / "make-secrets.sh"), "--dir", str(out)],
                           env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_readmes_document_deployment_and_secrets():
    deploy = (DOCKER / "README.md").read_text(encoding="utf-8")
    secrets = (DOCKER / "secrets" / "README.md").read_text(encoding="utf-8")
    assert "docker compose up" in deploy and "statically" in deploy
    for needle in ("openssl", "keytool", "make-secrets.sh", "SCRAM"):
        assert needle in secrets, needle


# ----------------------------------------------------------------------------- verify-broker.sh
#
# docker/verify-broker.sh checks the live Apache Kafka (TLS required, SCRAM logins, the ACLs of each
# role) with Kafka's own command-line tools. Here: it parses, its --help lists every check it runs,
# it speaks the deployment's listener and topic names, and its decisions are right against stand-in
# tools that answer as Kafka's do (a refusal by an ACL, a failed login, a closed connection).

VERIFY_BROKER = DOCKER / "verify-broker.sh"
# What the script must show on the real broker (issue 13), by check id.
REQUIRED_BROKER_CHECKS = {
    "no-credentials-refused", "plaintext-refused", "subscriber-foreign-denied", "subscriber-raw-denied",
    "supplier-shared-write-denied", "sanitiser-reads-raw", "sanitiser-writes-shared",
}
KAFKA_TOOLS = ("kafka-topics.sh", "kafka-console-consumer.sh", "kafka-console-producer.sh", "kafka-acls.sh")


def verify_broker_text() -> str:
    return VERIFY_BROKER.read_text(encoding="utf-8")


def declared_broker_checks() -> list[str]:
    block = re.search(r"^CHECKS=\($(.*?)^\)$", verify_broker_text(), re.MULTILINE | re.DOTALL)
    assert block, "verify-broker.sh declares no CHECKS=( ... ) list"
    return re.findall(r'^\s*"([a-z-]+)\|[^"]+"\s*$', block.group(1), re.MULTILINE)


def run_verify_broker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})}
    return subprocess.run([BASH, str(VERIFY_BROKER), *args], env=full_env, capture_output=True, text=True,
                          timeout=120)


@needs_bash
def test_verify_broker_exists_is_strict_bash_and_parses():
    text = verify_broker_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    commands = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[0] == "set -euo pipefail", "set -euo pipefail must come before any command"
    result = subprocess.run([BASH, "-n", str(VERIFY_BROKER)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@needs_bash
def test_verify_broker_help_lists_every_check_it_runs():
    declared = declared_broker_checks()
    assert len(declared) == len(set(declared)), "a check id is declared twice"
    assert REQUIRED_BROKER_CHECKS <= set(declared), REQUIRED_BROKER_CHECKS - set(declared)
    text = verify_broker_text()
    calls = (r'^\s*(?:result (?:PASS|FAIL|SKIP)|reads (?:ALLOW|DENY)|writes (?:ALLOW|DENY)|refused) '
             r'"?([a-z][a-z-]*[a-z])(?=["\s])')
    ran = set(re.findall(calls, text, re.MULTILINE))
    if '"connect-$role"' in text:  # one login check per role, in a loop
        roles = re.search(r"^for role in ([a-z ]+); do$", text, re.MULTILINE)
        assert roles
        ran |= {f"connect-{role}" for role in roles.group(1).split()}
    assert ran == set(declared), f"run but not declared: {ran - set(declared)}; declared, never run: " \
                                 f"{set(declared) - ran}"
    for flag in ("--help", "-h"):
        result = run_verify_broker(flag)
        assert result.returncode == 0, result.stderr
        for check in declared:
            assert re.search(rf"^\s+{re.escape(check)}\s+\S", result.stdout, re.MULTILINE), f"--help omits {check}"
        for option in ("--bootstrap", "--ca", "--sanitiser", "--supplier", "--subscriber", "--acl-admin"):
            assert option in result.stdout


def test_verify_broker_speaks_the_deployment(compose, broker_properties):
    from exchange.core.acl import Operation, PatternType, ResourceType, sanitiser_bindings
    from exchange.core.names import DATASET_ID_RE

    text = verify_broker_text()
    for tool in KAFKA_TOOLS:
        assert f"{tool} --bootstrap-server" in text or f" {tool} " in text, f"{tool} is not used"
    # The client listener's protocol and mechanism, set whatever a role file says.
    client = [name for name, (_, port) in listeners(broker_properties).items() if port == 9093][0]
    assert protocol_map(broker_properties)[client] == "SASL_SSL"
    assert enabled_mechanisms(broker_properties, client) == {"SCRAM-SHA-512"}
    assert 'client_settings SASL_SSL' in text and 'echo "sasl.mechanism=SCRAM-SHA-512"' in text
    assert 'echo "ssl.endpoint.identification.algorithm=https"' in text  # as the broker's own clients
    # The dataset kafka-init makes topics for by default, and the topic names it makes.
    default_datasets = environment(services(compose)["kafka-init"])["INIT_DATASETS"]
    assert re.search(rf"^DATASET=\$\{{VERIFY_DATASET:-{re.escape(default_datasets.split(',')[0])}\}}$", text,
                     re.MULTILINE)
    for name in ('RAW_TOPIC=raw.$DATASET', 'SHARED_TOPIC=shared.$DATASET', 'restricted.$DATASET',
                 '"keys.$RAW_TOPIC"', '"keys.$SHARED_TOPIC"', '"keys.$FOREIGN_TOPIC"'):
        assert name in text, name
    # The probe topic: inside the sanitiser's PREFIXED shared. rights, and no dataset can ever be called
    # so (a hyphen), so no feed reads it and no grant covers it.
    probe = re.search(r"^PROBE_TOPIC=\$\{VERIFY_PROBE_TOPIC:-([^}]+)\}$", text, re.MULTILINE).group(1)
    assert probe.startswith("shared.") and not DATASET_ID_RE.fullmatch(probe.removeprefix("shared."))
    rights = {(b.operation, b.pattern_type, b.resource_name) for b in sanitiser_bindings()
              if b.resource_type is ResourceType.TOPIC}
    assert {(Operation.WRITE, PatternType.PREFIXED, "shared."), (Operation.CREATE, PatternType.PREFIXED, "shared."),
            (Operation.READ, PatternType.PREFIXED, "raw."),
            (Operation.READ, PatternType.PREFIXED, "keys.raw.")} <= rights
    # Reads never join or move a consumer group: a partition and an offset, no --group.
    assert "--partition 0 --offset earliest" in text and "--group" not in text


@needs_bash
def test_verify_broker_refuses_a_wrong_command_line(tmp_path):
    role = tmp_path / "role.properties"
    role.write_text('sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required '
                    'username="someone" password="not-printed-0123456789";\n')
    ca = tmp_path / "ca.crt"
    ca.write_text("not a certificate\n")
    no_login = tmp_path / "no-login.properties"
    no_login.write_text("security.protocol=SASL_SSL\n")
    base = ["--bootstrap", "kafka:9093", "--ca", str(ca), "--kafka-bin", str(tmp_path)]
    for args, needle in (
        ([], "bootstrap"),
        (["--bogus"], "unknown argument"),
        (["--bootstrap", "kafka"], "HOST:PORT"),
        (["--bootstrap", "kafka:9093"], "CA"),
        (base, "kafka-topics.sh"),
    ):
        result = run_verify_broker(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert needle in result.stderr, (args, result.stderr)
    tools = stand_in_kafka_tools(tmp_path)
    base = ["--bootstrap", "kafka:9093", "--ca", str(ca), "--kafka-bin", str(tools)]
    for args, needle in (
        (base + ["--sanitiser", str(role), "--supplier", str(role)], "--subscriber"),
        (base + ["--sanitiser", str(no_login), "--supplier", str(role), "--subscriber", str(role)], "sasl.jaas.config"),
        (base + ["--sanitiser", str(role), "--supplier", str(role), "--subscriber", str(role)], "own user"),
        (base + ["--sanitiser", str(role), "--supplier", str(role), "--subscriber", str(role),
                 "--probe-topic", "raw.x"], "shared."),
    ):
        result = run_verify_broker(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert needle in result.stderr, (args, result.stderr)
        assert "not-printed" not in result.stdout + result.stderr
    assert not (tmp_path / "calls.log").exists(), "a usage error ran a Kafka tool"


# Stand-ins for Kafka's tools: a broker set up as docker/ sets it up, with the ACLs `exchange acl
# apply` gives the sanitiser, one supplier and one subscriber of police_crime_offence. Each answers
# in the words Kafka's own tools print. FAKE_BROKEN names a misconfiguration to simulate.
STAND_IN_KAFKA = r'''
import os, re, sys
from pathlib import Path

tool, args = Path(sys.argv[1]).name, sys.argv[2:]
broken = set(filter(None, os.environ.get("FAKE_BROKEN", "").split(",")))
passwords = dict(pair.split(":", 1) for pair in os.environ["FAKE_USERS"].split(","))
here = Path(__file__).parent
with (here / "calls.log").open("a") as handle:
    handle.write(f"{tool} {' '.join(args)}\n")


def option(name):
    return args[args.index(name) + 1] if name in args else None


def answer(text, status):
    print(text)
    sys.exit(status)


config = option("--command-config") or option("--consumer.config") or option("--producer.config")
props = {}
for line in Path(config).read_text().splitlines():
    if line.strip() and not line.lstrip().startswith("#"):
        key, _, value = line.partition("=")
        props[key.strip()] = value.strip()

protocol = props.get("security.protocol", "PLAINTEXT")
if ((protocol == "PLAINTEXT" and "plaintext-open" not in broken)
        or (protocol == "SSL" and "anonymous-open" not in broken)):
    print("WARN [AdminClient clientId=adminclient-1] Bootstrap broker kafka:9093 (id: -1 rack: null) disconnected",
          file=sys.stderr)
    answer("Error while executing topic command : Timed out waiting for a node assignment. Call: listTopics", 1)
if protocol in ("SSL", "SASL_SSL") and (
        props.get("ssl.truststore.type") != "PEM" or props.get("ssl.truststore.location") != os.environ["FAKE_CA"]
        or props.get("ssl.endpoint.identification.algorithm") != "https" or "ssl.truststore.password" in props):
    answer("org.apache.kafka.common.errors.SslAuthenticationException: SSL handshake failed", 1)
user = None
if protocol == "SASL_SSL":
    assert props.get("sasl.mechanism") == "SCRAM-SHA-512", props
    login = re.search(r'username="([^"]*)" password="([^"]*)"', props.get("sasl.jaas.config", ""))
    if (not login or passwords.get(login.group(1)) != login.group(2)) and "wrong-password-open" not in broken:
        answer("ERROR org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed during "
               "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512", 1)
    user = login.group(1)

DATASET = "police_crime_offence"


def allowed(operation, topic):
    if operation == "READ":
        return ((user == "sanitiser" and topic.startswith(("raw.", "keys.raw.")))
                or (user == "northshire-council" and topic in (f"shared.{DATASET}", f"keys.shared.{DATASET}"))
                or ("subscriber-reads-raw" in broken and user == "northshire-council" and topic.startswith("keys.raw."))
                or ("subscriber-reads-foreign" in broken and user == "northshire-council"
                    and topic.startswith("restricted."))
                or ("supplier-reads-raw" in broken and user == "northshire-police" and topic.startswith("raw.")))
    if user == "sanitiser" and topic.startswith(("shared.", "keys.shared.", "restricted.", "keys.restricted.")):
        return "sanitiser-cannot-write" not in broken
    return ((operation == "WRITE" and user == "northshire-police"
             and topic in (f"raw.{DATASET}", f"keys.raw.{DATASET}"))
            or ("supplier-writes-shared" in broken and user == "northshire-police" and topic.startswith("shared.")))


topic = option("--topic")
if tool == "kafka-topics.sh" and "--list" in args:
    visible = [t for t in (f"raw.{DATASET}", f"shared.{DATASET}") if allowed("READ", t) or allowed("WRITE", t)]
    answer("\n".join(visible), 0)
if tool == "kafka-topics.sh" and "--create" in args:
    if allowed("CREATE", topic):
        answer(f"Created topic {topic}.", 0)
    answer("Error while executing topic command : Authorization failed.\n"
           "ERROR org.apache.kafka.common.errors.TopicAuthorizationException: Authorization failed.", 1)
if tool == "kafka-console-consumer.sh":
    assert option("--partition") == "0" and option("--offset") == "earliest" and "--group" not in args, args
    error = ("org.apache.kafka.common.errors.TimeoutException" if allowed("READ", topic) else
             f"org.apache.kafka.common.errors.TopicAuthorizationException: Not authorized to access topics: [{topic}]")
    answer(f"ERROR Error processing message, terminating consumer process:\n{error}\n"
           "Processed a total of 0 messages", 0)
if tool == "kafka-console-producer.sh":
    assert "--sync" in args and sys.stdin.read().strip()
    if allowed("WRITE", topic):
        answer("", 0)
    answer("java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.TopicAuthorizationException: "
           f"Not authorized to access topics: [{topic}]", 1)
if tool == "kafka-acls.sh":
    if user != "acl-admin" and not (user == "northshire-council" and "subscriber-alters-acls" in broken):
        answer("Error while executing ACL command: org.apache.kafka.common.errors.ClusterAuthorizationException: "
               "Cluster authorization failed.", 1)
    if "--list" in args:
        wildcard = (" \t(principal=User:*, host=*, operation=READ, permissionType=ALLOW)\n"
                    if "wildcard-acl" in broken else "")
        answer("Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=raw., patternType=PREFIXED)`: \n"
               f" \t(principal=User:sanitiser, host=*, operation=READ, permissionType=ALLOW)\n{wildcard}", 0)
    answer("Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=verify-broker-probe, "
           "patternType=LITERAL)`", 0)
answer(f"stand-in: unexpected call {tool} {args}", 3)
'''

STAND_IN_PASSWORDS = {"sanitiser": "sanitiser-password-0123456789", "northshire-police": "police-password-0123456789",
                      "northshire-council": "council-password-0123456789", "acl-admin": "admin-password-0123456789"}


def stand_in_kafka_tools(folder: Path) -> Path:
    import sys

    fake = folder / "stand_in_kafka.py"
    fake.write_text(STAND_IN_KAFKA)
    for name in KAFKA_TOOLS:
        tool = folder / name
        tool.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake}" "$0" "$@"\n')
        tool.chmod(0o755)
    return folder


def stand_in_run(tmp_path: Path, broken: str = "", *,
                 acl_admin: bool = True) -> tuple[subprocess.CompletedProcess, str]:
    (tmp_path / "bin").mkdir()
    tools = stand_in_kafka_tools(tmp_path / "bin")
    roles = tmp_path / "roles"
    roles.mkdir()
    files = {}
    for role, user in (("sanitiser", "sanitiser"), ("supplier", "northshire-police"),
                       ("subscriber", "northshire-council"), ("acl-admin", "acl-admin")):
        files[role] = roles / f"{role}.properties"
        # Settings a role file may carry that would weaken or break the check: the script overrides them.
        extra = "security.protocol=PLAINTEXT\nssl.truststore.type=JKS\nssl.truststore.password=truststore-secret-42\n" \
            if role == "supplier" else ""
        files[role].write_text(f"{extra}sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
                               f'required username="{user}" password="{STAND_IN_PASSWORDS[user]}";\n')
    ca = roles / "ca.crt"
    ca.write_text("the partnership CA\n")
    args = ["--bootstrap", "kafka:9093", "--ca", str(ca), "--kafka-bin", str(tools), "--timeout", "2",
            "--sanitiser", str(files["sanitiser"]), "--supplier", str(files["supplier"]),
            "--subscriber", str(files["subscriber"])]
    if acl_admin:
        args += ["--acl-admin", str(files["acl-admin"])]
    work = tmp_path / "tmp"
    work.mkdir()
    env = {"FAKE_BROKEN": broken, "FAKE_CA": str(ca), "TMPDIR": str(work),
           "FAKE_USERS": ",".join(f"{user}:{password}" for user, password in STAND_IN_PASSWORDS.items())}
    result = run_verify_broker(*args, env=env)
    output = result.stdout + result.stderr
    for secret in [*STAND_IN_PASSWORDS.values(), "truststore-secret-42"]:
        assert secret not in output, "verify-broker.sh printed a password"
    assert not list(work.iterdir()), "verify-broker.sh left its private copies behind"
    return result, output


def verdicts(output: str) -> dict[str, str]:
    return {check: verdict for verdict, check in re.findall(r"^(PASS|FAIL|SKIP)\s+(\S+)", output, re.MULTILINE)}


@needs_bash
def test_verify_broker_passes_a_broker_set_up_as_docker_sets_it_up(tmp_path):
    result, output = stand_in_run(tmp_path)
    assert result.returncode == 0, output
    assert verdicts(output) == dict.fromkeys(declared_broker_checks(), "PASS"), output
    calls = (tmp_path / "bin" / "calls.log").read_text()
    assert "--topic shared.verify-broker --sync" in calls  # the one write the script means to make
    assert "--producer.config" in calls and "--topic shared.police_crime_offence --sync" in calls


@needs_bash
def test_verify_broker_skips_the_acl_listing_without_the_acl_administrator(tmp_path):
    result, output = stand_in_run(tmp_path, acl_admin=False)
    assert result.returncode == 0, output
    assert verdicts(output)["no-wildcard-acl"] == "SKIP"
    assert set(verdicts(output).values()) == {"PASS", "SKIP"}


@needs_bash
@pytest.mark.parametrize(("broken", "check"), [
    ("plaintext-open", "plaintext-refused"),
    ("anonymous-open", "no-credentials-refused"),
    ("wrong-password-open", "wrong-password-refused"),
    ("subscriber-reads-raw", "subscriber-raw-denied"),
    ("subscriber-reads-foreign", "subscriber-foreign-denied"),
    ("supplier-reads-raw", "supplier-raw-read-denied"),
    ("supplier-writes-shared", "supplier-shared-write-denied"),
    ("subscriber-alters-acls", "subscriber-acl-change-denied"),
    ("sanitiser-cannot-write", "sanitiser-writes-shared"),
    ("wildcard-acl", "no-wildcard-acl"),
])
def test_verify_broker_fails_the_check_a_misconfiguration_breaks(tmp_path, broken, check):
    result, output = stand_in_run(tmp_path, broken)
    assert result.returncode == 1, output
    found = verdicts(output)
    assert found[check] == "FAIL", output
    assert [name for name, verdict in found.items() if verdict == "FAIL"] == [check], output
