"""Governance end to end on the embedded broker, as the partnership's IG lead would run it: the
chain is founded and published; a new agency is proposed and approved by every responsible
authority with their own keys, and granted a dataset with the originator's signed consent; its
feed, started with its key file, the bootstrap address and the trust anchor only (no config),
stores the next supply; a forged approval on the governance topic changes nothing; the agency
rekeys and keeps receiving; a suspension ends its deliveries within seconds; and the
originator's report matches what was delivered."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import time

import pytest
from click.testing import CliRunner

import exchange.services.feed as feed_module
from exchange.cli import main
from exchange.core.ledger import Decision, TrustAnchor
from exchange.core.names import GOVERNANCE_TOPIC
from exchange.core.schemas import catalogue
from exchange.crypto.decisions import sign_decision
from exchange.crypto.keys import KeyPair
from exchange.errors import ConfigError
from exchange.services.feed import FeedService
from exchange.services.governance_topic import GovernanceFollower
from exchange.services.originator_report import load_report
from exchange.services.sanitiser import SanitiserService
from exchange.services.sanitiser_core import SanitiserCore
from exchange.storage.audit import AuditLog
from exchange.storage.feed_store import FeedStore
from exchange.storage.registry import Registry
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, police_offence_export
from exchange.transport.kafka import make_producer
from tests.support.partnership import PASSPHRASE, agent_config_with_outbox

pytestmark = pytest.mark.broker

FIRE = "northshire-fire"


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"EXCHANGE_KEY_PASSPHRASE": PASSPHRASE,
                                                       "EXCHANGE_ACTOR": "Test IG Lead"})
    assert result.exit_code == 0, f"exchange {' '.join(args)}: {result.output}"
    return result.output


async def _ig_lead(*args: str) -> str:
    """A command the IG lead types (run off the event loop: the CLI runs its own)."""
    return await asyncio.to_thread(_cli, *args)


async def _until(predicate, what: str, tasks, timeout: float = 60.0) -> float:
    started = time.monotonic()
    while not await predicate():
        for task in tasks:
            if task.done():
                task.result()
                raise AssertionError(f"a service stopped while waiting for {what}")
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)
    return time.monotonic() - started


def test_a_new_agency_admitted_granted_rekeyed_and_suspended_through_the_signed_chain(
        kafka, demo_files, party_keys, gazetteer, tmp_path, monkeypatch):
    from agents.agent import submit

    monkeypatch.setattr(feed_module, "GOVERNANCE_EVERY", 0.3)
    registry, anchor_file = tmp_path / "registry.db", tmp_path / "trust-anchor.json"
    key = {party: str(path) for party, path in demo_files.keys.items()}
    fire_keys, fire_new = KeyPair.generate(FIRE), KeyPair.generate(FIRE)
    key[FIRE], key["fire-new"] = str(tmp_path / "fire.key"), str(tmp_path / "fire-new.key")
    fire_keys.save(key[FIRE], PASSPHRASE)
    fire_new.save(key["fire-new"], PASSPHRASE)
    publish = ["--publish", kafka.bootstrap]
    fire_public = fire_keys.public.as_config()
    expires = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    agent_config = agent_config_with_outbox(demo_files, tmp_path / "outbox.db")
    exports = []
    for n in range(4):
        exports.append(tmp_path / f"supply-{n}.csv")
        police_offence_export(gazetteer, exports[-1], rows=6, bad_rows=0, seed=300 + n)

    async def supply(n: int, partnership) -> None:
        await submit(agent_config, exports[n], partnership=partnership, dataset=catalogue()[DATASET],
                     keys=party_keys[POLICE], settings=kafka)

    def fire_feed(store, keys, stop, follower):
        return asyncio.create_task(FeedService(follower.partnership(), catalogue(), keys, FIRE, kafka, store,
                                               governance=follower).run(stop))

    async def follower() -> GovernanceFollower:
        anchor = TrustAnchor.from_dict(json.loads(anchor_file.read_text()))
        following = GovernanceFollower(kafka, anchor, catalogue())
        await following.start(wait_for_founding=10)
        return following

    async def scenario():
        # 1. The founding responsible authorities sign the ISP config; the anchor goes to every site.
        await _ig_lead("governance", "found", "--config", str(demo_files.partnership), "--registry", str(registry),
                       "--key", key[POLICE], "--key", key[COUNCIL], "--role", "Partnership IG lead", *publish)
        await _ig_lead("governance", "anchor", "--registry", str(registry), "--out", str(anchor_file))

        # The sanitiser follows the chain (no registry file, no restart).
        central = await follower()
        stop = asyncio.Event()
        async with AuditLog(tmp_path / "sanitiser-audit.db") as audit:
            core = SanitiserCore(central.partnership(), catalogue(), party_keys["sanitiser"], gazetteer)
            sanitiser = asyncio.create_task(SanitiserService(
                core, kafka, ledger=audit, partnership_source=central.partnership_source, refresh_every=0.2).run(stop))

            # 2. Propose; approve by each responsible authority with its own key.
            await _ig_lead("signatory", "propose", FIRE, "--name", "Northshire Fire and Rescue", "--kind",
                           "co_operating_body", "--tier", "1", "--x25519", fire_public["x25519"], "--ed25519",
                           fire_public["ed25519"], "--key", key[POLICE], "--role", "DLO", "--registry",
                           str(registry), *publish)
            await _ig_lead("signatory", "approve", FIRE, "--key", key[POLICE], "--role", "DLO", "--registry",
                           str(registry), *publish)

            # 3. A forged second approval ("the council's", signed with the police key) is put straight
            #    on the topic by someone able to write it: every site refuses it.
            async with Registry(registry) as held:
                ledger = await held.ledger()
            forged = sign_decision(Decision(ledger.version + 1, ledger.head, "approve", FIRE,
                                            {"decision": ledger.pending[FIRE].decision}, "Intruder", "-",
                                            dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()),
                                   party_keys[POLICE], signer=COUNCIL)
            producer = make_producer(kafka)
            await producer.start()
            await producer.send_and_wait(GOVERNANCE_TOPIC, forged.to_json().encode(), key=b"%010d" % forged.version)
            await producer.stop()
            await asyncio.sleep(1.0)
            assert not (await central.partnership_source()).signatories[FIRE].active
            assert central.refused >= 1
            # ... and the registry refuses the same decision.
            shown = await _ig_lead("governance", "show", "--registry", str(registry))
            assert "Intruder" not in shown and "approve" in shown

            await _ig_lead("signatory", "approve", FIRE, "--key", key[COUNCIL], "--role", "Community Safety Manager",
                           "--registry", str(registry), *publish)
            # 4. The originator consents to the grant, on signed terms.
            await _ig_lead("acl", "grant", FIRE, DATASET, "--purpose", "Arson reduction tasking", "--expires", expires,
                           "--key", key[POLICE], "--role", "Data owner", "--registry", str(registry), *publish)
            await _until(lambda: _granted(core, FIRE), "the grant at the sanitiser", [sanitiser])

            # 5. Fire's feed: its key file, the bootstrap and the trust anchor, no config.
            async with FeedStore(tmp_path / "fire.db") as store:
                stop_feed = asyncio.Event()
                fire_site = await follower()
                feed = fire_feed(store, fire_keys, stop_feed, fire_site)
                await asyncio.sleep(1.0)
                await supply(0, central.partnership())
                waited = await _until(lambda: _held(store, 6), "fire's first supply", [feed, sanitiser])

                # 6. Fire rekeys (old and new key): the running feed stops rather than lose records.
                await _ig_lead("signatory", "rekey", FIRE, "--key", key[FIRE], "--new-key", key["fire-new"],
                               "--role", "ICT security officer", "--registry", str(registry), *publish)
                with pytest.raises(ConfigError, match="rekey"):
                    await asyncio.wait_for(feed, 30)
                await fire_site.stop()
            await asyncio.to_thread(_cli, "feed", "reseal", "--db", str(tmp_path / "fire.db"), "--old-keys", key[FIRE],
                                    "--keys", key["fire-new"])
            async with FeedStore(tmp_path / "fire.db") as store:
                stop_feed = asyncio.Event()
                fire_site = await follower()
                feed = fire_feed(store, fire_new, stop_feed, fire_site)
                await _until(lambda: _granted(core, FIRE, keys=fire_new), "the new keys at the sanitiser",
                             [sanitiser, feed])
                await supply(1, central.partnership())
                await _until(lambda: _held(store, 12), "fire's supply after its rekey", [feed, sanitiser])

                # 7. Suspension (signed by a responsible authority): nothing new reaches fire.
                await _ig_lead("signatory", "suspend", FIRE, "--reason", "ISP breach under review", "--key",
                               key[COUNCIL], "--role", "Chair, CSP board", "--registry", str(registry), *publish)
                suspended = await _until(lambda: _suspended(core, FIRE), "the suspension at the sanitiser",
                                         [sanitiser, feed])
                await supply(2, central.partnership())
                await asyncio.sleep(3.0)
                fire_held = await store.count(DATASET)
                stop_feed.set()
                await feed
                await fire_site.stop()
            stop.set()
            await sanitiser
            await central.stop()
            report = await load_report(tmp_path / "sanitiser-audit.db", POLICE, await _chain_grants(registry))
        return waited, suspended, fire_held, report

    waited, suspended, fire_held, report = asyncio.run(scenario())
    assert fire_held == 12  # two supplies of 6; nothing after the suspension
    to_fire = [line for line in report.releases if line.recipient == FIRE]
    assert sum(line.records for line in to_fire) == fire_held
    assert all(line.grant is not None and line.grant.purpose == "Arson reduction tasking" for line in to_fire)
    to_council = sum(line.records for line in report.releases if line.recipient == COUNCIL)
    assert to_council == 18  # every supply, the suspension of another signatory changes nothing for it
    print(f"first supply stored at the new agency {waited:.1f} s after it was sent; suspension seen by the "
          f"sanitiser {suspended:.1f} s after the command")  # figures, not gates


async def _granted(core: SanitiserCore, signatory: str, *, keys: KeyPair | None = None) -> bool:
    """Whether the running sanitiser has adopted the grant (and keys): it follows the chain itself."""
    partnership = core.partnership
    me = partnership.signatories.get(signatory)
    if me is None or not me.active or (keys is not None and me.keys != keys.public):
        return False
    return partnership.may_receive(signatory, DATASET, personal=False, today=dt.date.today()).allowed


async def _suspended(core: SanitiserCore, signatory: str) -> bool:
    return core.partnership.signatories[signatory].status == "suspended"


async def _held(store: FeedStore, count: int) -> bool:
    return await store.count(DATASET) >= count


async def _chain_grants(path) -> tuple:
    async with Registry(path) as registry:
        return tuple(g.as_grant() for g in await registry.grants())


def test_a_forged_decision_is_refused_by_the_registry_too(tmp_path, demo_files):
    registry = tmp_path / "registry.db"
    key = {party: str(path) for party, path in demo_files.keys.items()}
    _cli("governance", "found", "--config", str(demo_files.partnership), "--registry", str(registry),
         "--key", key[POLICE], "--key", key[COUNCIL], "--role", "IG lead")
    outsider = KeyPair.generate("outsider")
    outsider.save(tmp_path / "outsider.key", PASSPHRASE)
    result = CliRunner().invoke(main, ["signatory", "suspend", COUNCIL, "--reason", "x", "--key",
                                       str(tmp_path / "outsider.key"), "--role", "-", "--registry", str(registry)],
                                env={"EXCHANGE_KEY_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 1 and "holds no signatory's current signing key" in result.output
    verified = CliRunner().invoke(main, ["audit", "verify", "--registry", str(registry), "--json"])
    assert verified.exit_code == 0 and json.loads(verified.output)["decisions"] == 1


def test_a_dataset_newly_supplied_is_consumed_without_a_restart(kafka, partnership, party_keys, gazetteer):
    """The sanitiser follows the partnership between batches too: when the live state says a
    signatory now supplies a dataset nobody supplied, its raw topic is consumed at once."""
    from exchange.crypto.envelope import Sealer
    from exchange.testing.records import records_for
    from exchange.transport.readers import read_topic

    new_dataset = "fire_incident"
    assert new_dataset not in partnership.supplied_datasets()
    police = partnership.signatories[POLICE]
    supplying = dataclasses.replace(partnership, signatories={
        **partnership.signatories, POLICE: dataclasses.replace(police, supplies=police.supplies | {new_dataset})},
        grants=(*partnership.grants, dataclasses.replace(partnership.grants[0], dataset=new_dataset)))
    state = {"now": partnership}

    async def source():
        return state["now"]

    async def scenario():
        stop = asyncio.Event()
        core = SanitiserCore(partnership, catalogue(), party_keys["sanitiser"], gazetteer)
        service = SanitiserService(core, kafka, partnership_source=source, refresh_every=0.2)
        sanitiser = asyncio.create_task(service.run(stop))
        await asyncio.sleep(1.0)
        state["now"] = supplying  # the chain admits the new supply
        await _until(lambda: _consuming(service, new_dataset), "the new raw topic", [sanitiser], timeout=20)
        dataset = catalogue()[new_dataset]
        sealer = Sealer(producer=POLICE, keys=party_keys[POLICE], topic=f"raw.{new_dataset}",
                        recipients={"sanitiser": partnership.sanitiser.x25519})
        producer = make_producer(kafka)
        await producer.start()
        for index, record in enumerate(records_for(dataset, gazetteer, 3, seed=9)):
            sealed = sealer.seal(dataset.raw_codec.encode(record), message_id=f"fire-{index}", dataset=new_dataset,
                                 marking="OFFICIAL", schema_fingerprint=dataset.raw_codec.fingerprint)
            if sealed.key_grant is not None:
                await producer.send_and_wait(f"keys.raw.{new_dataset}", sealed.key_grant)
            await producer.send_and_wait(f"raw.{new_dataset}", sealed.envelope)
        await producer.stop()

        async def released() -> bool:
            return len(await read_topic(kafka, f"shared.{new_dataset}", quiet_ms=200)) >= 3
        await _until(released, "the new dataset's releases", [sanitiser], timeout=30)
        stop.set()
        await sanitiser

    asyncio.run(scenario())


async def _consuming(service: SanitiserService, dataset: str) -> bool:
    return service.consumer is not None and any(tp.topic == f"raw.{dataset}" for tp in service.consumer.assignment())
