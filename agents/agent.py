"""`exchange agent submit`: one supply of an agency's export, from CSV to the broker."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agents.config import AgentConfig
from agents.ingest import IngestResult, read_export, write_quarantine
from agents.publisher import publish_with_retry
from exchange._failpoints import failpoint
from exchange.core.avro import codec
from exchange.core.marking import Marking, parse_marking
from exchange.core.names import SANITISER_ID, key_topic, raw_topic
from exchange.core.partnership import Partnership
from exchange.core.schemas import Dataset
from exchange.crypto.envelope import Sealer
from exchange.crypto.keys import KeyPair
from exchange.errors import ConfigError
from exchange.storage.outbox import Outbox
from exchange.transport.kafka import KafkaSettings


@dataclass(frozen=True)
class SubmitReport:
    source: Path
    rows: int
    accepted: int
    rejected: int
    already_submitted: int
    queued: int
    published: int
    waiting: int
    quarantine: Path | None

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and self.waiting == 0


def record_message_id(producer: str, dataset: str, encoded: bytes) -> str:
    """Same producer, dataset and content -> same id: a re-submitted row is recognised."""
    return hashlib.sha256(f"{producer}\x00{dataset}\x00".encode() + encoded).hexdigest()[:32]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _metadata(config: AgentConfig, dataset: Dataset, source: Path, accepted: list, rejected: int) -> dict:
    dates = [a.record[dataset.event_date_field] for a in accepted if a.record.get(dataset.event_date_field)]
    return {
        "agency": config.signatory,
        "supplier_contact": config.supplier_contact,
        "dataset_name": dataset.id,
        "period_start": min(dates) if dates else None,
        "period_end": max(dates) if dates else None,
        "file_format": "CSV",
        "number_of_records": len(accepted),
        "records_rejected": rejected,
        "date_supplied": dt.datetime.now(dt.UTC),
        "datafields": [f.name for f in dataset.fields],
        "caveats": config.caveats,
        "source_file_sha256": _file_sha256(source),
    }


def check(config: AgentConfig, source: Path, *, partnership: Partnership,
          dataset: Dataset) -> tuple[IngestResult, Marking, Path | None]:
    """What `submit` does before it seals anything: the supply is allowed, the marking carried,
    every row validated and the rejected ones written to the quarantine report. Nothing is sealed,
    stored or published (`exchange agent submit --check`)."""
    decision = partnership.may_supply(config.signatory, dataset.id)
    if not decision:
        raise ConfigError(f"{config.path}: {decision.reason}; the sanitiser would refuse this supply")
    marking = parse_marking(config.marking, partnership.legacy_markings)  # refuse above OFFICIAL here already
    result = read_export(source, dataset, config.columns, config.formats, encoding=config.encoding)
    return result, marking, write_quarantine(result)


async def submit(config: AgentConfig, source: Path, *, partnership: Partnership, dataset: Dataset, keys: KeyPair,
                 settings: KafkaSettings, give_up_after: float = 300.0,
                 on_progress: Callable[[int], None] | None = None,
                 on_wait: Callable[[int, float, float], None] | None = None) -> SubmitReport:
    result, marking, quarantine = check(config, source, partnership=partnership, dataset=dataset)

    topic = raw_topic(dataset.id)
    record_codec, metadata_codec = dataset.raw_codec, codec("dataset_metadata")
    encoded = [(record_message_id(config.signatory, dataset.id, payload), payload)
               for payload in (record_codec.encode(a.record) for a in result.accepted)]
    metadata = _metadata(config, dataset, source, list(result.accepted), len(result.rejected))
    metadata_id = "meta-" + record_message_id(config.signatory, dataset.id, metadata["source_file_sha256"].encode())

    async with Outbox(config.outbox) as outbox:
        known = await outbox.known_ids([mid for mid, _ in encoded] + [metadata_id])
        sealer = Sealer(producer=config.signatory, keys=keys, topic=topic,
                        recipients={SANITISER_ID: partnership.sanitiser.x25519})
        items: list[tuple[str, str, bytes, bool]] = []
        fresh = [(mid, payload) for mid, payload in dict(encoded).items() if mid not in known]

        def add(sealed) -> None:
            if sealed.key_grant is not None:
                items.append((f"key-{sealed.header.key_id}", key_topic(topic), sealed.key_grant, True))
            items.append((sealed.header.message_id, topic, sealed.envelope, False))

        for mid, payload in fresh:
            add(sealer.seal(payload, message_id=mid, dataset=dataset.id,
                            schema_fingerprint=record_codec.fingerprint, marking=str(marking)))
        if fresh and metadata_id not in known:
            add(sealer.seal(metadata_codec.encode(metadata), message_id=metadata_id, dataset=dataset.id,
                            schema_fingerprint=metadata_codec.fingerprint, marking=str(marking), kind="METADATA"))
        await outbox.enqueue(items)
        failpoint("agent.sealed")
        published = await publish_with_retry(outbox, settings, give_up_after=give_up_after,
                                             on_progress=on_progress, on_wait=on_wait)
        failpoint("agent.published")
        stats = await outbox.stats()

    return SubmitReport(
        source=source, rows=len(result.accepted) + len(result.rejected), accepted=len(result.accepted),
        rejected=len(result.rejected), already_submitted=len(encoded) - len(fresh), queued=len(items),
        published=published, waiting=stats.waiting, quarantine=quarantine,
    )
