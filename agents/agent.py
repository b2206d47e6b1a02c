"""`exchange agent submit`: one supply of an agency's export, from CSV to the broker; and
`exchange agent withdraw`: records the agency no longer shares, deleted at every subscriber.

A record's message id comes from its content, so a file submitted twice is recognised and not
sent again; a record whose content changed (reclassified, corrected) gets a new id and, carrying
the same natural key, supersedes the earlier version downstream."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from agents.config import AgentConfig
from agents.ingest import (
    Accepted,
    IngestResult,
    Rejected,
    RowStatus,
    Withdrawn,
    iter_export,
    read_export,
    read_withdrawals,
    write_quarantine,
)
from agents.publisher import drain_once, publish_with_retry, stop_quietly
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
from exchange.transport.kafka import KafkaSettings, make_producer


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


CHUNK = 2000  # rows read, sealed and queued at a time: memory stays bounded whatever the file's size


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


def _metadata(config: AgentConfig, dataset: Dataset, source: Path, accepted: int, period: list[dt.date],
              rejected: int) -> dict:
    return {
        "agency": config.signatory,
        "supplier_contact": config.supplier_contact,
        "dataset_name": dataset.id,
        "period_start": period[0] if period else None,
        "period_end": period[-1] if period else None,
        "file_format": "CSV",
        "number_of_records": accepted,
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
    marking = preflight(config, partnership=partnership, dataset=dataset)
    result = read_export(source, dataset, config.columns, config.formats, encoding=config.encoding,
                         status=row_status(config))
    return result, marking, write_quarantine(result)


def preflight(config: AgentConfig, *, partnership: Partnership, dataset: Dataset) -> Marking:
    """What must hold before any row is read: the supply is allowed, the markings are ones the
    exchange carries, the config's handling names what exists. Returns the supply's marking."""
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
    return marking


async def submit(config: AgentConfig, source: Path, *, partnership: Partnership, dataset: Dataset, keys: KeyPair,
                 settings: KafkaSettings, give_up_after: float = 300.0, chunk: int = CHUNK,
                 on_progress: Callable[[int], None] | None = None,
                 on_wait: Callable[[int, float, float], None] | None = None) -> SubmitReport:
    """Validate, seal and publish one export, reading it `chunk` rows at a time, so a file of any
    size is sent in bounded memory (each chunk sealed into the outbox in one transaction; a crash
    part-way leaves the rest to a second run, which recognises what was sent)."""
    marking = preflight(config, partnership=partnership, dataset=dataset)
    rows = iter_export(source, dataset, config.columns, config.formats, encoding=config.encoding,
                       status=row_status(config))
    accepted, rejected = 0, []
    period: list[dt.date] = []
    async with Outbox(config.outbox) as outbox, _EarlyPublisher(outbox, settings, on_progress) as early:
        supply = _Supply(config, dataset, keys, partnership, marking, outbox)
        for items in _chunks(rows, chunk):
            taken = [i for i in items if isinstance(i, Accepted)]
            rejected += [i for i in items if isinstance(i, Rejected)]
            accepted += len(taken)
            dates = [a.record[dataset.event_date_field] for a in taken if a.record.get(dataset.event_date_field)]
            period = [min(period + dates), max(period + dates)] if dates else period
            await supply.seal(records_to_send(config, dataset, taken), [i for i in items if isinstance(i, Withdrawn)])
            await early.publish()  # the sanitiser starts on the first chunk, not after the whole file
        result = IngestResult(source, (), tuple(rejected))
        quarantine = write_quarantine(result)
        await supply.seal_metadata(_metadata(config, dataset, source, accepted, period, len(rejected)))
        return await supply.publish(settings, result, quarantine, accepted=accepted, give_up_after=give_up_after,
                                    on_progress=on_progress, on_wait=on_wait, already_published=early.sent)


class _EarlyPublisher:
    """Publishes each chunk as soon as it is sealed into the outbox, on one producer, while the
    broker answers; the first failure stops it quietly and leaves everything to the final publish
    (with its retries), so a broker away changes nothing but the timing. The metadata, sealed last,
    is always published by the final publish, after every record."""

    def __init__(self, outbox: Outbox, settings: KafkaSettings, on_progress: Callable[[int], None] | None):
        self._outbox, self._settings, self._on_progress = outbox, settings, on_progress
        self._producer: AIOKafkaProducer | None = None
        self.sent = 0

    async def __aenter__(self) -> _EarlyPublisher:
        producer = make_producer(self._settings)
        try:
            await producer.start()
        except (KafkaError, OSError):
            await stop_quietly(producer)
        else:
            self._producer = producer
        return self

    async def publish(self) -> None:
        if self._producer is None:
            return
        try:
            self.sent += await drain_once(self._outbox, self._producer)
        except (KafkaError, OSError):
            await stop_quietly(self._producer)
            self._producer = None
            return
        if self._on_progress:
            self._on_progress(self.sent)

    async def __aexit__(self, *exc: object) -> None:
        if self._producer is not None:
            await stop_quietly(self._producer)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def records_to_send(config: AgentConfig, dataset: Dataset, accepted: Iterable[Accepted]) -> list[tuple[dict, str]]:
    """Each accepted record as sealed (free text the originator withholds emptied, its handling
    instructions attached), with its natural key."""
    withheld = dict.fromkeys(config.withhold_free_text)  # the originator's choice: never sent at all
    return [({**a.record, **withheld, ORIGINATOR_HANDLING: originator_handling(config, a.restriction)},
             dataset.natural_key_of(a.record)) for a in accepted]


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
    async with Outbox(config.outbox) as outbox:
        supply = _Supply(config, dataset, keys, partnership, marking, outbox)
        await supply.seal([], list(result.withdrawn))
        return await supply.publish(settings, result, write_quarantine(result), accepted=0,
                                    give_up_after=give_up_after, on_wait=on_wait)


class _Supply:
    """One supply being sealed into the outbox, chunk by chunk, then published: records (their
    ids from content and the record's withdrawal epoch), withdrawals, and the metadata last."""

    def __init__(self, config: AgentConfig, dataset: Dataset, keys: KeyPair, partnership: Partnership,
                 marking: Marking, outbox: Outbox):
        self.config, self.dataset, self.marking, self.outbox = config, dataset, str(marking), outbox
        self.topic = raw_topic(dataset.id)
        self.sealer = Sealer(producer=config.signatory, keys=keys, topic=self.topic,
                             recipients={SANITISER_ID: partnership.sanitiser.x25519})
        self._tokens = Pseudonymiser(keys.local_secret("outbox record tokens"))
        self.fresh = self.already_submitted = self.withdrawn = self.already_withdrawn = self.queued = 0

    def token(self, natural_key: str) -> str:
        return self._tokens(self.dataset.id, natural_key)

    async def seal(self, records: list[tuple[dict, str]], withdrawn: list[Withdrawn]) -> None:
        """Seal what is new in this chunk and queue it, in one outbox transaction."""
        config, dataset = self.config, self.dataset
        withdrawals = _latest_per_key(dataset, withdrawn)
        tokens = {k: self.token(k) for k in [k for _, k in records] + list(withdrawals)}  # each key's once
        epochs = await self.outbox.record_epochs(tokens.values())

        def epoch(natural_key: str) -> tuple[int, bool]:
            return epochs.get(tokens[natural_key], (0, False))

        encoded = {}
        for record, natural_key in records:
            payload = dataset.raw_codec.encode(record)
            encoded[record_message_id(config.signatory, dataset.id, payload, epoch(natural_key)[0])] = \
                (payload, natural_key)
        withdrawal_ids = {withdrawal_message_id(config.signatory, dataset.id, natural_key, epoch(natural_key)[0]):
                          (natural_key, key) for natural_key, key in withdrawals.items()
                          if not epoch(natural_key)[1]}  # not withdrawn already
        known = await self.outbox.known_ids([*encoded, *withdrawal_ids])
        items: list[Queued] = []
        fresh = {mid: item for mid, item in encoded.items() if mid not in known}
        for mid, (payload, natural_key) in fresh.items():
            self._add(items, self.sealer.seal(payload, message_id=mid, dataset=dataset.id, marking=self.marking,
                                              schema_fingerprint=dataset.raw_codec.fingerprint), tokens[natural_key])
        fresh_withdrawals = {mid: item for mid, item in withdrawal_ids.items() if mid not in known}
        withdrawal_codec = codec("withdrawal")
        for mid, (natural_key, key) in fresh_withdrawals.items():
            self._add(items, self.sealer.seal(withdrawal_codec.encode({"natural_key": key}), message_id=mid,
                                              dataset=dataset.id, schema_fingerprint=withdrawal_codec.fingerprint,
                                              marking=self.marking, kind="WITHDRAWAL"), tokens[natural_key])
        resupplied = [tokens[natural_key] for _, natural_key in fresh.values() if epoch(natural_key)[1]]
        await self.outbox.enqueue(items, resupplied=resupplied,
                                  withdrawn=[tokens[natural_key] for natural_key, _ in fresh_withdrawals.values()])
        self.fresh += len(fresh)
        self.already_submitted += len(encoded) - len(fresh)
        self.withdrawn += len(fresh_withdrawals)
        self.already_withdrawn += len(withdrawals) - len(fresh_withdrawals)
        self.queued += len(items)

    async def seal_metadata(self, metadata: dict) -> None:
        """The supply's metadata (guidance 3.4), once, and only when the supply sent anything new."""
        metadata_id = "meta-" + record_message_id(self.config.signatory, self.dataset.id,
                                                  metadata["source_file_sha256"].encode())
        if not (self.fresh or self.withdrawn) or await self.outbox.known_ids([metadata_id]):
            return
        metadata_codec = codec("dataset_metadata")
        items: list[Queued] = []
        self._add(items, self.sealer.seal(metadata_codec.encode(metadata), message_id=metadata_id,
                                          dataset=self.dataset.id, schema_fingerprint=metadata_codec.fingerprint,
                                          marking=self.marking, kind="METADATA"))
        await self.outbox.enqueue(items)
        self.queued += len(items)

    def _add(self, items: list[Queued], sealed: Sealed, token: str | None = None) -> None:
        """Queue a sealed message (its key grant first when the data key is new), keyed by its
        record's token, so every version of a record goes to one partition."""
        if sealed.key_grant is not None:
            items.append(Queued(f"key-{sealed.header.key_id}", key_topic(self.topic), sealed.key_grant, True))
        items.append(Queued(sealed.header.message_id, self.topic, sealed.envelope, partition_key=token))

    async def publish(self, settings: KafkaSettings, result: IngestResult, quarantine: Path | None, *,
                      accepted: int, give_up_after: float, on_progress: Callable[[int], None] | None = None,
                      on_wait: Callable[[int, float, float], None] | None = None,
                      already_published: int = 0) -> SubmitReport:
        failpoint("agent.sealed")
        progress = (lambda n: on_progress(already_published + n)) if on_progress else None
        published = already_published + await publish_with_retry(
            self.outbox, settings, give_up_after=give_up_after, on_progress=progress, on_wait=on_wait)
        failpoint("agent.published")
        stats = await self.outbox.stats()
        withdrawals = self.withdrawn + self.already_withdrawn
        return SubmitReport(
            source=result.source, rows=accepted + len(result.rejected) + withdrawals, accepted=accepted,
            rejected=len(result.rejected), already_submitted=self.already_submitted, queued=self.queued,
            published=published, waiting=stats.waiting, quarantine=quarantine, withdrawn=self.withdrawn,
            already_withdrawn=self.already_withdrawn,
        )


def _latest_per_key(dataset: Dataset, withdrawn: Iterable[Withdrawn]) -> dict[str, dict[str, str]]:
    """Each withdrawn record once, by natural key, as the text map a withdrawal message carries."""
    out: dict[str, dict[str, str]] = {}
    for item in withdrawn:
        text = {name: value.isoformat() if isinstance(value, dt.date) else str(value)
                for name, value in item.key.items()}
        out[dataset.natural_key_of(item.key)] = text
    return out
