"""`exchange agent submit`: one supply of an agency's export, from CSV to the broker; and
`exchange agent withdraw`: records the agency no longer shares, deleted at every subscriber.

A record's message id comes from its content, so a file submitted twice is recognised and not
sent again; a record whose content changed (reclassified, corrected) gets a new id and, carrying
the same natural key, supersedes the earlier version downstream."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agents.config import AgentConfig
from agents.ingest import IngestResult, RowStatus, Withdrawn, read_export, read_withdrawals, write_quarantine
from agents.publisher import publish_with_retry
from exchange._failpoints import failpoint
from exchange.core.avro import codec
from exchange.core.marking import Marking, parse_marking
from exchange.core.names import SANITISER_ID, key_topic, raw_topic
from exchange.core.partnership import Partnership
from exchange.core.schemas import ORIGINATOR_HANDLING, Dataset
from exchange.crypto.envelope import Sealed, Sealer
from exchange.crypto.keys import KeyPair
from exchange.crypto.pseudonyms import Pseudonymiser
from exchange.errors import ConfigError
from exchange.storage.outbox import Outbox, Queued
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
    withdrawn: int = 0  # withdrawals sent (rows whose status withdraws them, or a withdrawal file)
    already_withdrawn: int = 0

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and self.waiting == 0


def record_message_id(producer: str, dataset: str, encoded: bytes, epoch: int = 0) -> str:
    """Same producer, dataset and content -> same id: a re-submitted row is recognised. `epoch`
    counts the record's withdrawals, so a record supplied again after one is sent again."""
    suffix = f"\x00epoch {epoch}".encode() if epoch else b""
    return hashlib.sha256(f"{producer}\x00{dataset}\x00".encode() + encoded + suffix).hexdigest()[:32]


def withdrawal_message_id(producer: str, dataset: str, natural_key: str, epoch: int) -> str:
    digest = hashlib.sha256(f"withdrawal\x00{producer}\x00{dataset}\x00{natural_key}\x00{epoch}".encode())
    return "wd-" + digest.hexdigest()[:32]


def row_status(config: AgentConfig) -> RowStatus:
    return RowStatus(handling_column=config.handling_column, withdrawal_column=config.withdrawal_column,
                     withdrawal_values=config.withdrawal_values)


def originator_handling(config: AgentConfig, restriction: str | None) -> dict | None:
    """What the sanitiser is told about one record, beyond the record itself (never forwarded)."""
    if restriction is None and config.depersonalised_marking is None:
        return None
    return {"restriction": restriction,
            "release_to": list(config.sub_judice_recipients) if restriction == "SUB_JUDICE" else [],
            "depersonalised_marking": config.depersonalised_marking}


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
    if config.depersonalised_marking is not None:
        parse_marking(config.depersonalised_marking, partnership.legacy_markings)
    for name in config.withhold_free_text:
        if name not in {f.name for f in dataset.fields_with("free_text") if f.nullable}:
            raise ConfigError(f"{config.path}: agent.withhold_free_text names {name!r}, which is not an optional "
                              f"free-text field of {dataset.id} (those are: "
                              f"{', '.join(f.name for f in dataset.fields_with('free_text') if f.nullable)})")
    unknown = [p for p in config.sub_judice_recipients if p not in partnership.signatories]
    if unknown:
        raise ConfigError(f"{config.path}: handling.sub_judice_recipients names no signatory: {', '.join(unknown)}")
    result = read_export(source, dataset, config.columns, config.formats, encoding=config.encoding,
                         status=row_status(config))
    return result, marking, write_quarantine(result)


async def submit(config: AgentConfig, source: Path, *, partnership: Partnership, dataset: Dataset, keys: KeyPair,
                 settings: KafkaSettings, give_up_after: float = 300.0,
                 on_progress: Callable[[int], None] | None = None,
                 on_wait: Callable[[int, float, float], None] | None = None) -> SubmitReport:
    result, marking, quarantine = check(config, source, partnership=partnership, dataset=dataset)
    records = records_to_send(config, dataset, result)
    metadata = _metadata(config, dataset, source, list(result.accepted), len(result.rejected))
    return await _send(config, source, result, marking, quarantine, records, metadata, partnership=partnership,
                       dataset=dataset, keys=keys, settings=settings, give_up_after=give_up_after,
                       on_progress=on_progress, on_wait=on_wait)


def records_to_send(config: AgentConfig, dataset: Dataset, result: IngestResult) -> list[tuple[dict, str]]:
    """Each accepted record as sealed (free text the originator withholds emptied, its handling
    instructions attached), with its natural key."""
    withheld = dict.fromkeys(config.withhold_free_text)  # the originator's choice: never sent at all
    return [({**a.record, **withheld, ORIGINATOR_HANDLING: originator_handling(config, a.restriction)},
             dataset.natural_key_of(a.record)) for a in result.accepted]


async def withdraw(config: AgentConfig, source: Path, *, partnership: Partnership, dataset: Dataset, keys: KeyPair,
                   settings: KafkaSettings, give_up_after: float = 300.0,
                   on_wait: Callable[[int, float, float], None] | None = None) -> SubmitReport:
    """Withdraw the records a file names by their natural key (the mapping's column names):
    every subscriber deletes them. Rows that name no valid key go to the quarantine report."""
    decision = partnership.may_supply(config.signatory, dataset.id)
    if not decision:
        raise ConfigError(f"{config.path}: {decision.reason}; the sanitiser would refuse this withdrawal")
    marking = parse_marking(config.marking, partnership.legacy_markings)
    result = read_withdrawals(source, dataset, config.columns, config.formats, encoding=config.encoding)
    return await _send(config, source, result, marking, write_quarantine(result), [], None, partnership=partnership,
                       dataset=dataset, keys=keys, settings=settings, give_up_after=give_up_after, on_wait=on_wait)


async def _send(config: AgentConfig, source: Path, result: IngestResult, marking: Marking, quarantine: Path | None,
                records: list[tuple[dict, str]], metadata: dict | None, *, partnership: Partnership,
                dataset: Dataset, keys: KeyPair, settings: KafkaSettings, give_up_after: float,
                on_progress: Callable[[int], None] | None = None,
                on_wait: Callable[[int, float, float], None] | None = None) -> SubmitReport:
    """Seal records, withdrawals and the supply's metadata into the outbox in one transaction,
    then publish everything waiting there."""
    topic = raw_topic(dataset.id)
    record_codec, metadata_codec, withdrawal_codec = dataset.raw_codec, codec("dataset_metadata"), codec("withdrawal")
    tokens = Pseudonymiser(keys.local_secret("outbox record tokens"))
    withdrawals = _latest_per_key(dataset, result.withdrawn)

    def token(natural_key: str) -> str:
        return tokens(dataset.id, natural_key)

    async with Outbox(config.outbox) as outbox:
        epochs = await outbox.record_epochs(token(k) for k in [key for _, key in records] + list(withdrawals))
        encoded = {}
        for record, natural_key in records:
            payload = record_codec.encode(record)
            epoch = epochs.get(token(natural_key), (0, False))[0]
            encoded[record_message_id(config.signatory, dataset.id, payload, epoch)] = (payload, natural_key)
        withdrawal_ids = {withdrawal_message_id(config.signatory, dataset.id, natural_key,
                                                epochs.get(token(natural_key), (0, False))[0]): (natural_key, key)
                          for natural_key, key in withdrawals.items()
                          if not epochs.get(token(natural_key), (0, False))[1]}  # not withdrawn already
        metadata_id = ("meta-" + record_message_id(config.signatory, dataset.id,
                                                   metadata["source_file_sha256"].encode())) if metadata else None
        known = await outbox.known_ids([*encoded, *withdrawal_ids] + ([metadata_id] if metadata_id else []))
        sealer = Sealer(producer=config.signatory, keys=keys, topic=topic,
                        recipients={SANITISER_ID: partnership.sanitiser.x25519})
        items: list[Queued] = []

        def add(sealed: Sealed, natural_key: str | None = None) -> None:
            if sealed.key_grant is not None:
                items.append(Queued(f"key-{sealed.header.key_id}", key_topic(topic), sealed.key_grant, True))
            items.append(Queued(sealed.header.message_id, topic, sealed.envelope,
                                partition_key=token(natural_key) if natural_key else None))

        fresh = {mid: item for mid, item in encoded.items() if mid not in known}
        for mid, (payload, natural_key) in fresh.items():
            add(sealer.seal(payload, message_id=mid, dataset=dataset.id,
                            schema_fingerprint=record_codec.fingerprint, marking=str(marking)), natural_key)
        fresh_withdrawals = {mid: item for mid, item in withdrawal_ids.items() if mid not in known}
        for mid, (natural_key, key) in fresh_withdrawals.items():
            add(sealer.seal(withdrawal_codec.encode({"natural_key": key}), message_id=mid, dataset=dataset.id,
                            schema_fingerprint=withdrawal_codec.fingerprint, marking=str(marking), kind="WITHDRAWAL"),
                natural_key)
        if metadata is not None and metadata_id and (fresh or fresh_withdrawals) and metadata_id not in known:
            add(sealer.seal(metadata_codec.encode(metadata), message_id=metadata_id, dataset=dataset.id,
                            schema_fingerprint=metadata_codec.fingerprint, marking=str(marking), kind="METADATA"))
        resupplied = [token(natural_key) for _, natural_key in fresh.values()
                      if epochs.get(token(natural_key), (0, False))[1]]
        await outbox.enqueue(items, withdrawn=[token(natural_key) for natural_key, _ in fresh_withdrawals.values()],
                             resupplied=resupplied)
        failpoint("agent.sealed")
        published = await publish_with_retry(outbox, settings, give_up_after=give_up_after,
                                             on_progress=on_progress, on_wait=on_wait)
        failpoint("agent.published")
        stats = await outbox.stats()

    return SubmitReport(
        source=source, rows=len(result.accepted) + len(result.rejected) + len(result.withdrawn),
        accepted=len(result.accepted), rejected=len(result.rejected), already_submitted=len(encoded) - len(fresh),
        queued=len(items), published=published, waiting=stats.waiting, quarantine=quarantine,
        withdrawn=len(fresh_withdrawals), already_withdrawn=len(withdrawals) - len(fresh_withdrawals),
    )


def _latest_per_key(dataset: Dataset, withdrawn: tuple[Withdrawn, ...]) -> dict[str, dict[str, str]]:
    """Each withdrawn record once, by natural key, as the text map a withdrawal message carries."""
    out: dict[str, dict[str, str]] = {}
    for item in withdrawn:
        text = {name: value.isoformat() if isinstance(value, dt.date) else str(value)
                for name, value in item.key.items()}
        out[dataset.natural_key_of(item.key)] = text
    return out
