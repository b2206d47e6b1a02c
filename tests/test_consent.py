"""Consent (ISP 5.1-5.4): a personal record whose subject's consent was withheld reaches only a
grantee whose grant's legal basis permits sharing without consent; other records as before."""

from __future__ import annotations

import asyncio
import dataclasses

from exchange.core.names import key_topic, raw_topic
from exchange.core.partnership import Grant
from exchange.core.schemas import catalogue
from exchange.crypto.envelope import Sealer
from exchange.errors import ReasonCode
from exchange.testing.partnership import COUNCIL, POLICE, VOLUNTARY
from exchange.testing.records import records_for
from exchange.transport.loop import ConsumeLoop
from tests.support.fakes import FakeConsumer, FakeKeyReader, FakeProducer
from tests.support.governance import config_mapping
from tests.support.sanitiser_world import TODAY, World

PPO = catalogue()["ppo"]


def _world(partnership, party_keys, gazetteer, *, without_consent: bool) -> tuple[World, Sealer]:
    """A partnership where the police supply the PPO cohort and the council holds a grant of it."""
    police = dataclasses.replace(partnership.signatories[POLICE],
                                 supplies=partnership.signatories[POLICE].supplies | {PPO.id})
    grant = Grant(COUNCIL, PPO.id, "Offender management", "Crime and Disorder Act 1998 s.115", POLICE,
                  TODAY.replace(year=TODAY.year + 1), without_consent=without_consent)
    isp = dataclasses.replace(partnership, signatories={**partnership.signatories, POLICE: police},
                              grants=(*partnership.grants, grant))
    return _world_on(isp, party_keys, gazetteer)


def _world_on(isp, party_keys, gazetteer) -> tuple[World, Sealer]:
    world = World(isp, party_keys, gazetteer)
    world.consumer = FakeConsumer(world.topics, raw_topic(PPO.id))
    world.loop = ConsumeLoop(world.consumer, world.core, producer=FakeProducer(world.topics), poll_ms=0)
    world.core.fetch_keys = FakeKeyReader(world.topics, [key_topic(raw_topic(PPO.id))],
                                          world.core.opener.accept_key_grant).refresh
    sealer = Sealer(producer=POLICE, keys=party_keys[POLICE], topic=raw_topic(PPO.id),
                    recipients={"sanitiser": isp.sanitiser.x25519})
    return world, sealer


def _supply(world: World, sealer: Sealer, gazetteer, consents: list[str | None]) -> None:
    records = records_for(PPO, gazetteer, len(consents), seed=4, today=TODAY)
    for index, (record, consent) in enumerate(zip(records, consents, strict=True)):
        sealed = sealer.seal(PPO.raw_codec.encode({**record, "consent": consent}), message_id=f"p{index}",
                             dataset=PPO.id, schema_fingerprint=PPO.raw_codec.fingerprint,
                             marking="OFFICIAL-SENSITIVE [PERSONAL]")
        if sealed.key_grant is not None:
            world.topics.append(key_topic(raw_topic(PPO.id)), sealed.key_grant)
        world.topics.append(raw_topic(PPO.id), sealed.envelope)
    asyncio.run(world.loop.run(asyncio.Event(), until_idle=0))


def test_consent_withheld_is_withheld_without_a_grant_that_permits_it(partnership, party_keys, gazetteer):
    world, sealer = _world(partnership, party_keys, gazetteer, without_consent=False)
    _supply(world, sealer, gazetteer, ["given", "withheld", "not_sought", None])
    released = [e for e in world.audit.events if e.kind == "release"]
    withheld = [e for e in world.audit.events if e.kind == "withheld"]
    assert len(released) == 3 and all(e.recipients == (COUNCIL,) for e in released)
    assert [e.reason_code for e in withheld] == [ReasonCode.CONSENT_WITHHELD]
    assert VOLUNTARY not in {r for e in released for r in e.recipients}


def test_a_grant_whose_legal_basis_permits_it_receives_consent_withheld(partnership, party_keys, gazetteer):
    world, sealer = _world(partnership, party_keys, gazetteer, without_consent=True)
    _supply(world, sealer, gazetteer, ["withheld"])
    released = [e for e in world.audit.events if e.kind == "release"]
    assert [e.recipients for e in released] == [(COUNCIL,)]
    assert "CONSENT_WITHHELD" in released[0].detail and "without consent" in released[0].detail


def test_a_grant_in_the_config_says_so(partnership):
    from exchange.core.partnership import Partnership

    document = config_mapping()
    document["grant"][0]["without_consent"] = True
    grant = Partnership.from_mapping(document).grants[0]
    assert grant.without_consent is True


def _signed_partnership(demo_files, party_keys, tmp_path, *, without_consent: bool):
    """The demo partnership founded as a chain (the police supplying the PPO cohort too), and a grant
    of it to the council signed by the police, its originator, on these terms."""
    from exchange.services.governance import decide, found
    from exchange.storage.registry import Registry

    text = demo_files.partnership.read_text(encoding="utf-8")
    supplies = 'supplies = ["police_crime_offence"]'
    assert supplies in text
    text = text.replace(supplies, 'supplies = ["police_crime_offence", "ppo"]')

    async def main():
        async with Registry(tmp_path / f"registry-{without_consent}.db") as registry:
            await found(registry, text, signers=[party_keys[POLICE], party_keys[COUNCIL]], person="IG lead",
                        role="IG lead")
            await decide(registry, "grant", COUNCIL, {
                "dataset": PPO.id, "purpose": "Offender management", "legal_basis": "Crime and Disorder Act 1998 s.115",
                "expires": TODAY.replace(year=TODAY.year + 1).isoformat(), "without_consent": without_consent},
                signers=[party_keys[POLICE]], person="DLO", role="Designated Liaison Officer")
            (grant,) = [g for g in await registry.grants(COUNCIL) if g.dataset == PPO.id]
            assert (grant.without_consent, grant.source) == (without_consent, "signed")
            return await registry.effective_partnership()

    return asyncio.run(main())


def test_whether_consent_withheld_is_released_is_the_originators_signed_term(demo_files, party_keys, gazetteer,
                                                                            tmp_path):
    for without_consent, released_to in ((False, []), (True, [(COUNCIL,)])):
        isp = _signed_partnership(demo_files, party_keys, tmp_path, without_consent=without_consent)
        world, sealer = _world_on(isp, party_keys, gazetteer)
        _supply(world, sealer, gazetteer, ["withheld"])
        assert [e.recipients for e in world.audit.events if e.kind == "release"] == released_to
        withheld = [e.reason_code for e in world.audit.events if e.kind == "withheld"]
        assert withheld == ([] if without_consent else [ReasonCode.CONSENT_WITHHELD])


def test_a_grant_in_the_founding_config_keeps_its_without_consent_term(tmp_path):
    from tests.support.governance import registry_with, run

    document = config_mapping()
    document["grant"][0]["without_consent"] = True

    async def scenario():
        registry = await registry_with(tmp_path / "r.db", document)
        try:
            (grant,) = await registry.grants()
            assert (grant.source, grant.without_consent) == ("founding", True)
            assert (await registry.effective_partnership()).grants[0].without_consent is True
        finally:
            await registry.__aexit__(None, None, None)

    run(scenario())
