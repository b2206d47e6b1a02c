"""Kafka ACLs on the broker: describe, create and delete, through aiokafka's protocol classes.

aiokafka 0.14 has the wire structures (aiokafka.protocol.admin: DescribeAcls v0-v2, CreateAcls
v0-v1, DeleteAcls v0-v1) but no admin-client methods for them, so requests are sent with
`AIOKafkaAdminClient._client.send(node_id, request)`, which negotiates the version with the broker
(`Request.prepare`). Only version 1 of CreateAcls and DeleteAcls is used: version 0 has no pattern
type, so it cannot express the PREFIXED bindings the exchange needs (and Kafka 4 dropped it).
DescribeAcls v2 is not used: aiokafka declares it flexible without the compact encoding.

What the test broker does (Tansu, measured with aiokafka 0.14; tests/test_acl_broker.py):
  * DescribeAcls (API 29, advertised v0-v3): answers with no error and no ACLs, always.
  * CreateAcls (API 30, advertised v0-v3): answers, but with only the throttle time: the
    per-ACL results are missing, so aiokafka's own decoder fails and drops the connection. The
    response is decoded leniently here and reported as `AclsNotConfirmed`: nothing is recorded
    as created, and a describe afterwards still shows no ACLs (it ignores them).
  * DeleteAcls (API 31): not advertised; `AclsUnsupported` is raised before anything is sent.
Production (Apache Kafka, StandardAuthorizer) implements all three.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    IncompatibleBrokerVersion,
    KafkaConnectionError,
    KafkaError,
    for_code,
)
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    CreateAclsResponse_v1,
    DeleteAclsRequest_v1,
    DescribeAclsRequest,
)
from aiokafka.protocol.api import Request
from aiokafka.protocol.types import Int32

from exchange.core.acl import (
    AclBinding,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    sorted_bindings,
)
from exchange.errors import (
    AclBrokerError,
    AclCreateFailed,
    AclDeleteFailed,
    AclsNotConfirmed,
    AclsUnsupported,
)
from exchange.transport.kafka import KafkaSettings

log = logging.getLogger("exchange.acl_broker")


_HINTS = {
    31: "the principal this command connects as may not manage ACLs: it needs ALTER and DESCRIBE on the "
        "cluster (docker/kafka/init.sh gives them to INIT_ACL_ADMIN, `acl-admin`)",
    54: "the broker has no authorizer configured (authorizer.class.name), so it keeps no ACLs at all",
    35: "the broker does not accept this version of the request",
}


def explain(code: int, message: str | None = None) -> str:
    error = for_code(code)
    text = f"{error.__name__} (Kafka error {code})"
    if code in _HINTS:
        text += f": {_HINTS[code]}"
    if message:
        text += f"; the broker says: {message}"
    return text


# --- requests ------------------------------------------------------------------------------------


class _LenientCreateAclsResponse(CreateAclsResponse_v1):
    """CreateAcls v1 response that tolerates a body cut short after the throttle time (Tansu),
    so the connection is not dropped and the caller learns exactly what came back."""

    @classmethod
    def decode(cls, data):
        if isinstance(data, bytes):
            data = io.BytesIO(data)
        throttle = Int32.decode(data)
        rest = data.read()
        if not rest:
            return cls(throttle, None)
        return cls(throttle, cls.SCHEMA.fields[1].decode(io.BytesIO(rest)))


def _wire(b: AclBinding) -> tuple:
    """A binding as CreateAcls v1 creations and DeleteAcls v1 filters both encode it."""
    return (b.resource_type.value, b.resource_name, b.pattern_type.value, b.principal, b.host,
            b.operation.value, b.permission.value)


class _CreateAclsV1(CreateAclsRequest_v1):
    RESPONSE_TYPE = _LenientCreateAclsResponse


class _CreateAcls(Request[_CreateAclsV1]):
    """CreateAcls carrying many bindings in one request (aiokafka's own sends one)."""

    API_KEY = 30

    def __init__(self, bindings: list[AclBinding]):
        self._bindings = bindings

    def build(self, request_struct_class):
        return request_struct_class([_wire(b) for b in self._bindings])


class _DeleteAcls(Request[DeleteAclsRequest_v1]):
    """DeleteAcls with one exact filter per binding."""

    API_KEY = 31

    def __init__(self, bindings: list[AclBinding]):
        self._bindings = bindings

    def build(self, request_struct_class):
        return request_struct_class([_wire(b) for b in self._bindings])


def describe_request() -> DescribeAclsRequest:
    """A filter matching every ACL on the broker."""
    any_ = 1
    return DescribeAclsRequest(resource_type=any_, resource_name=None, resource_pattern_type_filter=any_,
                               principal=None, host=None, operation=any_, permission_type=any_)


# --- sending -------------------------------------------------------------------------------------


async def _send(settings: KafkaSettings, request: Request, what: str):
    admin = AIOKafkaAdminClient(**settings.client_options())
    try:
        await admin.start()
        node = admin._client.get_random_node()
        if node is None or not await admin._client.ready(node):
            raise AclBrokerError(f"{what}: no broker reachable at {settings.bootstrap}")
        return await admin._client.send(node, request)
    except (IncompatibleBrokerVersion, NotImplementedError):
        name = type(request).__name__.strip("_").removesuffix("Request")
        raise AclsUnsupported(f"{what}: the broker at {settings.bootstrap} does not support Kafka's {name} "
                              f"request (API key {request.API_KEY}) in a version this client speaks "
                              f"(version 1 or later)") from None
    except KafkaConnectionError as exc:
        raise AclBrokerError(f"{what}: the broker at {settings.bootstrap} closed the connection ({exc}); "
                             "it may not implement ACL requests") from None
    except KafkaError as exc:
        raise AclBrokerError(f"{what}: {exc.__class__.__name__}: {exc}") from None
    finally:
        await admin.close()


def parse_describe(response) -> set[AclBinding]:
    obj = response.to_object()
    if obj["error_code"]:
        raise AclBrokerError("the broker refused to list its ACLs: " + explain(obj["error_code"], obj["error_message"]))
    bindings = set()
    for resource in obj["resources"]:
        pattern = resource.get("resource_pattern_type", PatternType.LITERAL.value)  # v0 knows only literal
        for acl in resource["acls"]:
            bindings.add(AclBinding(principal=acl["principal"], resource_type=ResourceType(resource["resource_type"]),
                                    pattern_type=pattern, resource_name=resource["resource_name"],
                                    operation=acl["operation"], permission=acl["permission_type"], host=acl["host"]))
    return bindings


async def describe_acls(settings: KafkaSettings) -> set[AclBinding]:
    """Every ACL the broker holds (what the connecting principal may see)."""
    return parse_describe(await _send(settings, describe_request(), "listing the broker's ACLs"))


def parse_create(bindings: list[AclBinding], response) -> None:
    results = response.creation_responses
    if results is None or len(results) != len(bindings):
        got = "no result" if results is None else f"{len(results)} result(s)"
        raise AclsNotConfirmed(f"the broker answered the request to create {len(bindings)} ACL(s) with {got}, so "
                               "it cannot be confirmed that any was created; nothing is recorded as applied "
                               "(the embedded test broker, Tansu, answers like this: it ignores ACLs)")
    created, failed = set(), []
    for binding, (code, message) in zip(bindings, results, strict=False):
        if code:
            failed.append((binding, explain(code, message)))
        else:
            created.add(binding)
    if failed:
        lines = "\n".join(f"  {b}: {why}" for b, why in failed)
        raise AclCreateFailed(f"the broker refused {len(failed)} of {len(bindings)} ACL(s):\n{lines}",
                              frozenset(created), tuple(failed))


async def create_acls(settings: KafkaSettings, bindings: Iterable[AclBinding]) -> None:
    """Create the bindings; raises unless the broker confirms every one."""
    bindings = sorted_bindings(bindings)
    if not bindings:
        return
    response = await _send(settings, _CreateAcls(bindings), f"creating {len(bindings)} ACL(s)")
    parse_create(bindings, response)


def parse_delete(bindings: list[AclBinding], response) -> frozenset[AclBinding]:
    obj = response.to_object()
    results = obj["filter_responses"]
    if len(results) != len(bindings):
        raise AclsNotConfirmed(f"the broker answered the request to delete {len(bindings)} ACL(s) with "
                               f"{len(results)} result(s); what it deleted is unknown")
    deleted, failed = set(), []
    for binding, result in zip(bindings, results, strict=False):
        if result["error_code"]:
            failed.append((binding, explain(result["error_code"], result["error_message"])))
            continue
        for match in result["matching_acls"]:
            if match["error_code"]:
                failed.append((binding, explain(match["error_code"], match["error_message"])))
            else:
                deleted.add(binding)
    if failed:
        lines = "\n".join(f"  {b}: {why}" for b, why in failed)
        raise AclDeleteFailed(f"the broker could not delete {len(failed)} of {len(bindings)} ACL(s):\n{lines}",
                              frozenset(deleted), tuple(failed))
    return frozenset(deleted)


async def delete_acls(settings: KafkaSettings, bindings: Iterable[AclBinding]) -> frozenset[AclBinding]:
    """Delete exactly these bindings (one exact filter each); returns those the broker deleted.
    A binding already gone is not an error (it matches nothing)."""
    bindings = sorted_bindings(bindings)
    if not bindings:
        return frozenset()
    response = await _send(settings, _DeleteAcls(bindings), f"deleting {len(bindings)} ACL(s)")
    return parse_delete(bindings, response)


__all__ = ["AclBrokerError", "AclsUnsupported", "AclsNotConfirmed", "AclCreateFailed", "AclDeleteFailed",
           "describe_acls", "create_acls", "delete_acls", "explain", "Operation", "Permission"]
