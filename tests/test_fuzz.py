"""Fuzzing (issue 5: nothing crashes): the envelope decoder and the CSV ingest on hostile input.

(a) `read_header`, `Opener.open` and `Opener.accept_key_grant`, on arbitrary bytes and on mutated
    valid envelopes and grants (bit flips, byte overwrites, truncation, deletion, insertion,
    duplication, splicing two messages), raise nothing but `EnvelopeError` subclasses, each with a
    message and a reason code; and whatever still opens is exactly a message that was sealed (no
    mutation yields a forgery), whatever grant is still accepted is exactly a grant that was made.
    Structure-aware too: decoded fields mutated and re-signed with a real producer's key (what a
    buggy or hostile signatory could send) reach the checks behind the signature; and a grant
    signed by one producer never stops another producer's genuine envelopes from opening.
(b) `agents.ingest.read_export` (police_crime_offence, the demo's column mapping), on arbitrary
    bytes, arbitrary text, CSV-shaped text, byte-mutated and cell-mutated valid exports, raises
    nothing but a `ConfigError` that names the file, and that only for a header lacking required
    columns when the file is well-formed; every rejected row has a row number >= 1 and at least
    one reason; accepted + rejected == data rows when the file is well-formed CSV; every accepted
    record encodes under the dataset's Avro schema and the quarantine report can be written.

The last tests pin down faults these properties found (all fixed since): a header that is not
UTF-8 or not readable as CSV escaped as UnicodeDecodeError / csv.Error; a non-UTF-8 byte mid-file
silently dropped up to 8 KiB of rows; a file ending inside a multi-byte character made the ingest
loop for ever, eating memory; another producer's grant could shadow a key id.

CI runs FUZZ_EXAMPLES (default 300) per property; `python bench/fuzz.py --examples 100000` runs
the same checks outside pytest, far faster, and prints what was tried and why inputs were refused.
"""

from __future__ import annotations

import atexit
import csv
import io
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agents.ingest import MAX_FIELD_BYTES, read_export, write_quarantine
from exchange.crypto.envelope import (
    MAX_ENVELOPE_BYTES,
    GrantInfo,
    Header,
    Opener,
    Sealer,
    read_header,
)
from exchange.errors import ConfigError, EnvelopeError

FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])

# What each target saw: target -> outcome -> count (read by bench/fuzz.py; harmless under pytest).
TALLY: dict[str, Counter] = defaultdict(Counter)


# == (a) the envelope ================================================================================


@dataclass(frozen=True)
class EnvelopeWorld:
    envelopes: tuple[bytes, ...]
    grants: tuple[bytes, ...]
    opened: frozenset[tuple[Header, bytes]]  # every (header, payload) a valid envelope opens to
    grant_infos: dict[str, GrantInfo]  # key id -> what accepting its valid grant returns
    opener: Opener  # the sanitiser's, holding every valid grant: mutations get as far as decryption
    grant_opener: Opener  # a second one, for the grant properties
    keys: dict  # party -> KeyPair: a producer's own key can re-sign what it mutates
    make_opener: object  # () -> a fresh sanitiser Opener that knows police and fire, and no grant yet

    @property
    def corpus(self) -> tuple[bytes, ...]:
        return self.envelopes + self.grants


@lru_cache(maxsize=1)
def envelope_world() -> EnvelopeWorld:
    from exchange.crypto.keys import KeyPair

    keys = {name: KeyPair.generate(name) for name in ("police", "fire", "sanitiser", "council", "stranger")}
    x = {name: pair.public.x25519 for name, pair in keys.items()}
    rng = random.Random(5)
    sealers = [  # (sealer, how many messages)
        (Sealer(producer="police", keys=keys["police"], topic="raw.police_crime_offence",
                recipients={"sanitiser": x["sanitiser"]}, max_records=3), 7),
        (Sealer(producer="police", keys=keys["police"], topic="shared.police_crime_offence",
                recipients={r: x[r] for r in ("sanitiser", "council", "fire")}), 3),
        (Sealer(producer="fire", keys=keys["fire"], topic="raw.fire_incident", recipients={"council": x["council"]}), 2),
        (Sealer(producer="stranger", keys=keys["stranger"], topic="raw.police_crime_offence",
                recipients={"sanitiser": x["sanitiser"]}), 2),
    ]
    envelopes, grants = [], []
    for sealer, count in sealers:
        for index in range(count):
            payload = rng.choice([b"", b"x", rng.randbytes(rng.randint(1, 400)), "Ünïcode record £".encode()])
            sealed = sealer.seal(payload, message_id=f"{sealer.producer}-{index}-{rng.getrandbits(64):x}",
                                 dataset=sealer.topic.split(".", 1)[1], schema_fingerprint=f"{rng.getrandbits(256):064x}",
                                 marking=rng.choice(["OFFICIAL", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE [PERSONAL]"]),
                                 kind="METADATA" if index == 1 else "RECORD")
            envelopes.append(sealed.envelope)
            if sealed.key_grant is not None:
                grants.append(sealed.key_grant)

    def make_opener() -> Opener:
        return Opener(me="sanitiser", keys=keys["sanitiser"],
                      producers={"police": keys["police"].public.ed25519, "fire": keys["fire"].public.ed25519})

    opener, grant_opener = make_opener(), make_opener()
    infos = {}
    for grant in grants:
        for target in (opener, grant_opener):
            try:
                info = target.accept_key_grant(grant)
            except EnvelopeError:  # the stranger's grant: not a known producer
                continue
            infos[info.key_id] = info
    opened = set()
    for envelope in envelopes:
        try:
            result = opener.open(envelope)
        except EnvelopeError:  # not for the sanitiser, or from the stranger
            continue
        opened.add((result.header, result.payload))
    assert len(opened) >= 10 and len(infos) >= 4
    return EnvelopeWorld(tuple(envelopes), tuple(grants), frozenset(opened), infos, opener, grant_opener, keys,
                         make_opener)


def _envelope_error(target: str, call: str, exc: EnvelopeError) -> None:
    assert str(exc).strip(), f"{call}: {type(exc).__name__} without a message"
    assert isinstance(exc.reason_code, str) and exc.reason_code.strip(), f"{call}: {type(exc).__name__} without a reason code"
    TALLY[target][f"{call}: {exc.reason_code}"] += 1


def check_envelope(data: bytes, target: str = "envelope") -> None:
    """read_header and open must accept or raise an EnvelopeError; what opens must be genuine."""
    world = envelope_world()
    TALLY[target]["inputs"] += 1
    try:
        read_header(data)
        TALLY[target]["read_header: ok"] += 1
    except EnvelopeError as exc:
        _envelope_error(target, "read_header", exc)
    try:
        opened = world.opener.open(data)
    except EnvelopeError as exc:
        _envelope_error(target, "open", exc)
    else:
        assert (opened.header, opened.payload) in world.opened, "a mutated envelope opened to something never sealed"
        TALLY[target]["open: ok (an equivalent encoding of a genuine envelope)"] += 1


def check_grant(data: bytes, target: str = "grant") -> None:
    """accept_key_grant must accept or raise an EnvelopeError; what it accepts must be a genuine grant."""
    world = envelope_world()
    TALLY[target]["inputs"] += 1
    try:
        info = world.grant_opener.accept_key_grant(data)
    except EnvelopeError as exc:
        _envelope_error(target, "accept_key_grant", exc)
    else:
        assert world.grant_infos.get(info.key_id) == info, "a mutated key grant was accepted as something never granted"
        TALLY[target]["accept_key_grant: ok (an equivalent encoding of a genuine grant)"] += 1


# -- byte-level mutations, shared with bench/fuzz.py --------------------------------------------------

INTERESTING_BYTES = (0x00, 0x01, 0x02, 0x3F, 0x40, 0x7F, 0x80, 0x81, 0xFE, 0xFF)
_POSITION = st.integers(0, 1 << 20)

MUTATION = st.one_of(
    st.tuples(st.just("flip"), _POSITION, st.integers(0, 7)),
    st.tuples(st.just("set"), _POSITION, st.sampled_from(INTERESTING_BYTES)),
    st.tuples(st.just("truncate"), _POSITION),
    st.tuples(st.just("drop_head"), st.integers(1, 64)),
    st.tuples(st.just("delete"), _POSITION, st.integers(1, 64)),
    st.tuples(st.just("insert"), _POSITION, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("duplicate"), _POSITION, st.integers(1, 64)),
    st.tuples(st.just("splice"), _POSITION, st.integers(0, 1000), _POSITION),
)
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=4)


def random_mutation(rng: random.Random) -> tuple:
    """The same mutations as MUTATION, drawn with `random` (for the fast driver in bench/fuzz.py)."""
    position = rng.randrange(1 << 20)
    kind = rng.choice(["flip", "flip", "set", "truncate", "drop_head", "delete", "insert", "duplicate", "splice"])
    if kind == "flip":
        return (kind, position, rng.randrange(8))
    if kind == "set":
        return (kind, position, rng.choice(INTERESTING_BYTES))
    if kind == "truncate":
        return (kind, position)
    if kind == "drop_head":
        return (kind, rng.randint(1, 64))
    if kind in ("delete", "duplicate"):
        return (kind, position, rng.randint(1, 64))
    if kind == "insert":
        return (kind, position, rng.randbytes(rng.randint(1, 64)))
    return (kind, position, rng.randrange(1001), rng.randrange(1 << 20))


def mutate(data: bytes, mutations, corpus: tuple[bytes, ...]) -> bytes:
    """Apply mutations in turn; positions are taken modulo the current length."""
    out = bytearray(data)
    for mutation in mutations:
        kind, position = mutation[0], mutation[1] % (len(out) + 1)
        if kind == "flip" and out:
            out[position % len(out)] ^= 1 << mutation[2]
        elif kind == "set" and out:
            out[position % len(out)] = mutation[2]
        elif kind == "truncate":
            del out[position:]
        elif kind == "drop_head":
            del out[:mutation[1]]
        elif kind == "delete":
            del out[position:position + mutation[2]]
        elif kind == "insert":
            out[position:position] = mutation[2]
        elif kind == "duplicate":
            out[position:position] = out[position:position + mutation[2]]
        elif kind == "splice":
            other = corpus[mutation[2] % len(corpus)]
            out[position:] = other[mutation[3] % (len(other) + 1):]
    return bytes(out)


@FUZZ
@given(st.binary(max_size=2048))
def test_envelope_decoders_on_arbitrary_bytes(data):
    check_envelope(data, "envelope: arbitrary bytes")
    check_grant(data, "grant: arbitrary bytes")


@FUZZ
@given(st.integers(0, 1000), MUTATIONS)
def test_envelope_decoders_on_mutated_envelopes(which, mutations):
    world = envelope_world()
    data = mutate(world.envelopes[which % len(world.envelopes)], mutations, world.corpus)
    check_envelope(data, "envelope: mutated envelopes")
    check_grant(data, "grant: mutated envelopes")


@FUZZ
@given(st.integers(0, 1000), MUTATIONS)
def test_accept_key_grant_on_mutated_grants(which, mutations):
    world = envelope_world()
    data = mutate(world.grants[which % len(world.grants)], mutations, world.corpus)
    check_grant(data, "grant: mutated grants")
    check_envelope(data, "envelope: mutated grants")


# -- re-signed (structure-aware) mutations: what a producer's own key could sign ---------------------
#
# A signature stops a byte mutation before anything else is looked at. These mutate the decoded
# fields and re-sign them with a real producer's key (a buggy or compromised producer, or another
# signatory), so the checks behind the signature (key ids, wrapped keys, nonces, ciphertexts,
# recipients) meet hostile input too.

PARTIES = ("police", "fire", "stranger", "sanitiser", "council", "")
PARTY = st.sampled_from(PARTIES)
TEXT_OR_ID = st.one_of(st.text(max_size=40), st.binary(min_size=0, max_size=20).map(bytes.hex), st.integers(0, 1000))
ENVELOPE_FIELD_EDIT = st.one_of(
    st.tuples(st.sampled_from(["message_id", "dataset", "marking", "key_id", "producer"]), TEXT_OR_ID | PARTY),
    st.tuples(st.just("kind"), st.sampled_from(["RECORD", "METADATA"])),
    st.tuples(st.sampled_from(["version", "produced_at"]),
              st.integers(-(1 << 31), (1 << 31) - 1) | st.sampled_from([0, 1, 2, -1, 1 << 40, -(1 << 40)])),
    st.tuples(st.just("nonce"), st.binary(max_size=40)),
    st.tuples(st.just("ciphertext"), MUTATIONS),
    st.tuples(st.just("ciphertext_of"), st.integers(0, 1000)),
)
GRANT_FIELD_EDIT = st.one_of(
    st.tuples(st.sampled_from(["key_id", "topic", "producer"]), TEXT_OR_ID | PARTY),
    st.tuples(st.sampled_from(["version", "created_at"]), st.integers(-(1 << 31), (1 << 31) - 1)),
    st.tuples(st.just("drop_recipient"), st.integers(0, 10)),
    st.tuples(st.just("copy_recipient"), st.integers(0, 10)),
    st.tuples(st.just("rename_recipient"), st.integers(0, 10), PARTY),
    st.tuples(st.just("wrapped"), st.integers(0, 10), MUTATIONS),
    # A sealed box to the sanitiser that opens, holding a key bound to this or another key id, of a
    # right or wrong length: (recipient index, key id choice, extra or missing bytes)
    st.tuples(st.just("rewrap"), st.integers(0, 10), TEXT_OR_ID, st.sampled_from([0, 0, 1, -1, -16, 16])),
)


def _pick_text(world: EnvelopeWorld, value) -> str:
    """An int picks a key id the world knows (so edits collide with genuine ids); text stays as is."""
    if isinstance(value, int):
        ids = sorted(world.grant_infos)
        return ids[value % len(ids)]
    return value


def resigned_envelope(world: EnvelopeWorld, which: int, edits, signer: str) -> bytes:
    from exchange.core.avro import codec
    from exchange.crypto import _primitives
    from exchange.crypto.envelope import _encode_header, _envelope_signed_bytes

    data = codec("envelope").decode(world.envelopes[which % len(world.envelopes)])
    header = dict(data["header"], produced_at=Header.from_avro(data["header"]).produced_at_ms)
    for edit in edits:
        field, value = edit
        if field == "nonce":
            data["nonce"] = value
        elif field == "ciphertext":
            data["ciphertext"] = mutate(data["ciphertext"], value, world.corpus)
        elif field == "ciphertext_of":
            data["ciphertext"] = codec("envelope").decode(world.envelopes[value % len(world.envelopes)])["ciphertext"]
        else:
            header[field] = _pick_text(world, value) if field in ("message_id", "dataset", "marking", "key_id",
                                                                  "producer") else value
    header_bytes = _encode_header(Header.from_avro(header))
    signature = _primitives.sign(world.keys[signer].signing_key,
                                 _envelope_signed_bytes(header_bytes, data["nonce"], data["ciphertext"]))
    return codec("envelope").encode({"header": header, "nonce": data["nonce"], "ciphertext": data["ciphertext"],
                                     "signature": signature})


def resigned_grant(world: EnvelopeWorld, which: int, edits, signer: str) -> bytes:
    from exchange.core.avro import codec
    from exchange.crypto import _primitives
    from exchange.crypto.envelope import _grant_signed_bytes

    grant = codec("key_grant").decode(world.grants[which % len(world.grants)])
    grant["created_at"] = int(grant["created_at"].timestamp() * 1000)
    recipients = [dict(r) for r in grant["recipients"]]
    for edit in edits:
        field = edit[0]
        index = edit[1] % len(recipients) if recipients and isinstance(edit[1], int) else 0
        if field in ("key_id", "topic", "producer"):
            grant[field] = _pick_text(world, edit[1])
        elif field in ("version", "created_at"):
            grant[field] = edit[1]
        elif field == "drop_recipient" and recipients:
            del recipients[index]
        elif field == "copy_recipient" and recipients:
            recipients.append(dict(recipients[index]))
        elif field == "rename_recipient" and recipients:
            recipients[index]["recipient"] = edit[2]
        elif field == "wrapped" and recipients:
            recipients[index]["wrapped"] = mutate(recipients[index]["wrapped"], edit[2], world.corpus)
        elif field == "rewrap" and recipients:
            bound = _pick_text(world, edit[2])
            try:
                bound_raw = bytes.fromhex(bound)
            except ValueError:
                bound_raw = bound.encode()[:16]
            body = bound_raw + bytes(range(32))
            body = body + bytes(edit[3]) if edit[3] >= 0 else body[:edit[3]]
            recipients[index] = {"recipient": "sanitiser",
                                 "wrapped": _primitives.seal_to(world.keys["sanitiser"].public.x25519, body)}
    grant["recipients"] = recipients
    grant["signature"] = _primitives.sign(world.keys[signer].signing_key, _grant_signed_bytes(grant))
    return codec("key_grant").encode(grant)


def random_envelope_edit(rng: random.Random) -> tuple:
    """ENVELOPE_FIELD_EDIT, drawn with `random` (for bench/fuzz.py)."""
    kind = rng.choice(["message_id", "dataset", "marking", "key_id", "key_id", "producer", "kind", "version",
                       "produced_at", "nonce", "ciphertext", "ciphertext_of"])
    if kind in ("message_id", "dataset", "marking", "key_id", "producer"):
        return (kind, _random_text_or_id(rng))
    if kind == "kind":
        return (kind, rng.choice(["RECORD", "METADATA"]))
    if kind in ("version", "produced_at"):
        return (kind, rng.choice([0, 1, 2, -1, 1 << 40, rng.randint(-(1 << 31), (1 << 31) - 1)]))
    if kind == "nonce":
        return (kind, rng.randbytes(rng.choice([0, 1, 8, 11, 12, 13, 16, 40])))
    if kind == "ciphertext":
        return (kind, [random_mutation(rng) for _ in range(rng.randint(1, 3))])
    return (kind, rng.randrange(1001))


def random_grant_edit(rng: random.Random) -> tuple:
    """GRANT_FIELD_EDIT, drawn with `random` (for bench/fuzz.py)."""
    kind = rng.choice(["key_id", "topic", "producer", "version", "created_at", "drop_recipient", "copy_recipient",
                       "rename_recipient", "wrapped", "rewrap", "rewrap"])
    if kind in ("key_id", "topic", "producer"):
        return (kind, _random_text_or_id(rng))
    if kind in ("version", "created_at"):
        return (kind, rng.randint(-(1 << 31), (1 << 31) - 1))
    if kind in ("drop_recipient", "copy_recipient"):
        return (kind, rng.randrange(11))
    if kind == "rename_recipient":
        return (kind, rng.randrange(11), rng.choice(PARTIES))
    if kind == "wrapped":
        return (kind, rng.randrange(11), [random_mutation(rng) for _ in range(rng.randint(1, 3))])
    return (kind, rng.randrange(11), _random_text_or_id(rng), rng.choice([0, 0, 1, -1, -16, 16]))


def _random_text_or_id(rng: random.Random):
    return rng.choice([rng.randrange(1001), rng.randrange(1001), rng.randbytes(rng.randint(0, 20)).hex(),
                       rng.choice(PARTIES), "".join(chr(rng.randint(32, 0x2FF)) for _ in range(rng.randint(0, 12)))])


SIGNER = st.sampled_from(["police", "fire", "stranger"])


@FUZZ
@given(st.integers(0, 1000), st.lists(ENVELOPE_FIELD_EDIT, min_size=1, max_size=4), SIGNER)
def test_envelope_decoders_on_resigned_mutated_envelopes(which, edits, signer):
    check_envelope(resigned_envelope(envelope_world(), which, edits, signer), "envelope: re-signed mutations")


@FUZZ
@given(st.integers(0, 1000), st.lists(GRANT_FIELD_EDIT, min_size=1, max_size=4), SIGNER)
@example(which=0, edits=[("producer", "fire")], signer="fire")  # fire re-announces police's key id...
@example(which=0, edits=[("producer", "fire"), ("rename_recipient", 0, "council")], signer="fire")  # ...not for us
def test_accept_key_grant_on_resigned_mutated_grants(which, edits, signer):
    check_resigned_grant(resigned_grant(envelope_world(), which, edits, signer), signer)


def check_resigned_grant(data: bytes, signer: str, target: str = "grant: re-signed mutations") -> None:
    """Only EnvelopeError; and a grant signed by one producer cannot take over, or mark as not for
    us, a key id another producer announced: every genuine envelope of the others still opens."""
    world = envelope_world()
    opener = world.make_opener()
    for grant in world.grants:
        try:
            opener.accept_key_grant(grant)
        except EnvelopeError:
            pass  # the stranger's
    TALLY[target]["inputs"] += 1
    try:
        opener.accept_key_grant(data)
        TALLY[target]["accept_key_grant: ok (the producer announced a key of its own)"] += 1
    except EnvelopeError as exc:
        _envelope_error(target, "accept_key_grant", exc)
    for envelope in world.envelopes:
        producer = read_header(envelope).producer
        if producer == signer:
            continue
        try:
            opened = world.opener.open(envelope)
        except EnvelopeError:
            continue  # not openable by the sanitiser in the first place
        try:
            again = opener.open(envelope)
        except EnvelopeError as exc:
            raise AssertionError(f"a grant signed by {signer!r} shadowed {producer!r}'s data key: "
                                 f"{exc.reason_code}") from None
        assert (again.header, again.payload) == (opened.header, opened.payload)


def test_every_single_bit_flip_of_an_envelope_and_a_grant_is_refused():
    world = envelope_world()
    for original, check in ((world.envelopes[0], check_envelope), (world.grants[0], check_grant)):
        for position in range(len(original)):
            for bit in range(8):
                check(mutate(original, [("flip", position, bit)], world.corpus), "exhaustive bit flips")


def test_oversized_input_is_refused_before_decoding():
    world = envelope_world()
    huge = world.envelopes[0] + bytes(MAX_ENVELOPE_BYTES)
    for call in (read_header, world.opener.open, world.grant_opener.accept_key_grant):
        with pytest.raises(EnvelopeError, match="exceeds"):
            call(huge)


# == (b) CSV ingest ==================================================================================


@dataclass(frozen=True)
class IngestWorld:
    workdir: Path
    path: Path  # every example is written here
    dataset: object
    columns: dict[str, str]
    formats: object
    required_columns: frozenset[str]
    header: tuple[str, ...]  # the demo export's columns
    bases: tuple[bytes, ...]  # valid exports (with a few faulty rows), to mutate
    valid_rows: tuple[dict[str, str], ...]  # their good rows, column -> cell

    def lacks_required(self, header: list[str]) -> bool:
        return not self.required_columns <= set(header)


@lru_cache(maxsize=1)
def ingest_world() -> IngestWorld:
    from agents.config import AgentConfig
    from exchange.core.schemas import catalogue
    from exchange.storage.gazetteer import Gazetteer
    from exchange.testing.gazetteer import synthesise
    from exchange.testing.partnership import COLUMNS, DATASET, police_offence_export

    config = AgentConfig.load(Path(__file__).resolve().parent.parent / "config" / "agents" / "police.toml")
    assert config.dataset == DATASET and set(config.columns.values()) == set(COLUMNS), "demo mapping and export differ"
    dataset = catalogue()[DATASET]
    required = frozenset(config.columns.get(f.name, f.name) for f in dataset.fields
                         if not f.nullable and f.avro_type != "boolean")
    workdir = Path(tempfile.mkdtemp(prefix="exchange-fuzz-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    synthesise(seed=11, out_db=workdir / "gazetteer.db")
    gazetteer = Gazetteer.open(workdir / "gazetteer.db")
    bases = []
    for seed in range(4):
        police_offence_export(gazetteer, workdir / "base.csv", rows=10, bad_rows=3, seed=seed)
        bases.append((workdir / "base.csv").read_bytes())
    bases.append(b"\xef\xbb\xbf" + bases[0].replace(b"\r\n", b"\n"))  # a BOM, Unix line ends
    valid_rows = tuple(row for base in bases[:4] for row in csv.DictReader(io.StringIO(base.decode(), newline=""))
                       if not row["CrimeNumber"].startswith("NS/BAD/"))
    return IngestWorld(workdir, workdir / "export.csv", dataset, config.columns, config.formats, required,
                       tuple(COLUMNS), tuple(bases), valid_rows)


@dataclass(frozen=True)
class Reference:
    utf8: bool
    header: list[str] | None  # None when the text does not parse as CSV
    data_rows: int | None


def reference_parse(data: bytes) -> Reference:
    """How many data rows the file holds, parsed independently of read_export (as DictReader counts:
    blank lines are no rows; the first non-blank row is the header). Bytes that are not UTF-8 are
    replaced for counting: that changes no row or cell boundary."""
    try:
        text, utf8 = data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        text, utf8 = data.decode("utf-8-sig", errors="replace"), False
    csv.field_size_limit(MAX_FIELD_BYTES)
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error:
        return Reference(utf8, None, None)
    return Reference(utf8, rows[0] if rows else [], max(0, len(rows) - 1))


def reason_category(reason: str) -> str:
    """A rejection reason with its particulars (values, numbers) blanked, for counting."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason))[:90]


def check_ingest(data: bytes, target: str = "ingest") -> None:
    world = ingest_world()
    TALLY[target]["inputs"] += 1
    world.path.write_bytes(data)
    reference = reference_parse(data)
    try:
        result = read_export(world.path, world.dataset, world.columns, world.formats)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{world.path}:"), f"ConfigError does not name the file: {message!r}"
        if reference.utf8 and reference.header is not None:
            assert world.lacks_required(reference.header), f"a well-formed export with every required column refused: {message}"
        TALLY[target]["file refused: " + reason_category(message.removeprefix(f"{world.path}: ")).split(":")[0]] += 1
        return
    if reference.header is not None:
        assert not world.lacks_required(reference.header), "an export whose header lacks required columns was read"
    numbers = [a.row_number for a in result.accepted] + [r.row_number for r in result.rejected]
    assert all(isinstance(n, int) and n >= 1 for n in numbers), "a row number below 1"
    assert len(set(numbers)) == len(numbers), "two outcomes for one row"
    for rejected in result.rejected:
        assert rejected.reasons and all(isinstance(r, str) and r.strip() for r in rejected.reasons), \
            f"row {rejected.row_number} rejected without a reason"
    if reference.data_rows is not None:
        assert len(numbers) == reference.data_rows, (
            f"{len(result.accepted)} accepted + {len(result.rejected)} rejected != {reference.data_rows} data rows")
        assert sorted(numbers) == list(range(1, reference.data_rows + 1))
    record_codec = world.dataset.raw_codec
    for accepted in result.accepted:
        record_codec.encode(accepted.record)  # what the agent seals next
    quarantine = write_quarantine(result)
    if result.rejected:
        with open(quarantine, newline="", encoding="utf-8", errors="replace") as handle:
            assert sum(1 for row in csv.reader(handle) if row) == len(result.rejected) + 1
    TALLY[target]["files read"] += 1
    TALLY[target]["rows accepted"] += len(result.accepted)
    TALLY[target]["rows rejected"] += len(result.rejected)
    for rejected in result.rejected:
        for reason in rejected.reasons:
            TALLY[target]["reason: " + reason_category(reason)] += 1


# -- CSV-shaped inputs ------------------------------------------------------------------------------

CELL_VALUES = (
    "", " ", "Y", "N", "yes", "no", "true", "0", "1", "maybe", "addressable", "non_addressable", "house",
    "01/01/2024", "31/02/2026", "29/02/2024", "01/01/0001", "31/12/9999", "1/1/2024", "2024-01-01", "99/99/9999",
    "00:00", "23:59", "24:00", "7:5", "12:00:00", "-1", "0.5", "1e400", "-1e400", "nan", "inf", "-0", "1_000",
    "700000", "700000.0001", "1300000", "-0.0", "٣٤٥", "CV32 4AB", "cv324ab", "CV32  4AB", "GIR 0AA", "NOT A POSTCODE",
    "28/3", "NS/26/100001", "12 High Street, Northtown", "Flat 3, 14 Elm Road", "\x00", "é", "\ufeff", "\u2028", '"',
    "a,b", "line\nbreak", "cr\rhere", "=cmd|' /C calc'!A0", "x" * 5000, "9" * 5000,
)
CELL = st.one_of(st.sampled_from(CELL_VALUES), st.text(max_size=24))


LINE_ENDS = ("\r\n", "\n", "\r")
WIDTH_CHANGES = (0, 0, 0, 0, 0, 0, 0, -1, 1, -2, 2)


def build_csv(columns: list[str], rows, line_end: str, bom: bool) -> bytes:
    """A CSV document: `columns` as its header; each row a valid export row's values for those columns
    (row spec: valid row index, [(column index, replacement cell)], width change, blank line after)."""
    valid_rows = ingest_world().valid_rows
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=line_end)
    writer.writerow(columns)
    for index, edits, width_change, blank_after in rows:
        valid = valid_rows[index % len(valid_rows)]
        cells = [valid.get(column, "") for column in columns]
        for column, value in edits:
            if cells:
                cells[column % len(cells)] = value
        if width_change > 0:
            cells += ["x"] * width_change
        elif width_change < 0:
            del cells[width_change:]
        writer.writerow(cells)
        if blank_after:
            out.write(line_end)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


ROW_SPEC = st.tuples(st.integers(0, 1000), st.lists(st.tuples(_POSITION, CELL), max_size=3),
                     st.sampled_from(WIDTH_CHANGES), st.integers(0, 15).map(lambda n: n == 0))


@st.composite
def csv_documents(draw) -> bytes:
    """The export's columns (sometimes shuffled, now and then one missing, some extra) over rows of
    valid values with a few odd cells and some short or long rows; random line ends, BOM, blank lines."""
    columns = list(ingest_world().header)
    if draw(st.booleans()):
        columns = list(draw(st.permutations(columns)))
    columns = [c for c in columns if draw(st.integers(0, 30)) > 0]
    columns += draw(st.lists(st.sampled_from(CELL_VALUES[:12]) | st.text(max_size=8), max_size=2))
    return build_csv(columns, draw(st.lists(ROW_SPEC, max_size=12)), draw(st.sampled_from(LINE_ENDS)),
                     draw(st.booleans()))


def random_csv_document(rng: random.Random) -> bytes:
    """csv_documents(), drawn with `random` (for the fast driver in bench/fuzz.py)."""
    columns = list(ingest_world().header)
    if rng.random() < 0.5:
        rng.shuffle(columns)
    columns = [c for c in columns if rng.randint(0, 30) > 0]
    columns += [random_cell(rng)[:8] for _ in range(rng.choice([0, 0, 0, 1, 2]))]
    rows = [(rng.randrange(1001), [(rng.randrange(1 << 20), random_cell(rng)) for _ in range(rng.choice([0, 0, 1, 2, 3]))],
             rng.choice(WIDTH_CHANGES), rng.randint(0, 15) == 0) for _ in range(rng.randint(0, 12))]
    return build_csv(columns, rows, rng.choice(LINE_ENDS), rng.random() < 0.5)


CELL_EDIT = st.one_of(
    st.tuples(st.just("set"), _POSITION, _POSITION, CELL),
    st.tuples(st.just("clear_column"), _POSITION),
    st.tuples(st.just("drop_cell"), _POSITION, _POSITION),
    st.tuples(st.just("add_cell"), _POSITION, CELL),
    st.tuples(st.just("drop_row"), _POSITION),
    st.tuples(st.just("copy_row"), _POSITION, _POSITION),
    st.tuples(st.just("blank_row"), _POSITION),
)


def random_cell(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(CELL_VALUES)
    return "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0, 0x2FFF)])) for _ in range(rng.randint(0, 24)))


def random_cell_edit(rng: random.Random) -> tuple:
    kind = rng.choice(["set", "set", "set", "clear_column", "drop_cell", "add_cell", "drop_row", "copy_row", "blank_row"])
    a, b = rng.randrange(1 << 20), rng.randrange(1 << 20)
    return {"set": (kind, a, b, random_cell(rng)), "clear_column": (kind, a), "drop_cell": (kind, a, b),
            "add_cell": (kind, a, random_cell(rng)), "drop_row": (kind, a), "copy_row": (kind, a, b),
            "blank_row": (kind, a)}[kind]


def edit_cells(base: bytes, edits) -> bytes:
    """Apply cell-level edits to a valid export (row 0, the header, is never edited)."""
    rows = list(csv.reader(io.StringIO(base.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    for edit in edits:
        kind = edit[0]
        if not body and kind != "blank_row":
            continue
        row = edit[1] % len(body) if body else 0
        if kind == "set" and body[row]:
            body[row][edit[2] % len(body[row])] = edit[3]
        elif kind == "clear_column":
            column = edit[1] % len(header)
            for cells in body:
                if column < len(cells):
                    cells[column] = ""
        elif kind == "drop_cell" and body[row]:
            del body[row][edit[2] % len(body[row])]
        elif kind == "add_cell":
            body[row].append(edit[2])
        elif kind == "drop_row":
            del body[row]
        elif kind == "copy_row":
            body.insert(edit[2] % (len(body) + 1), list(body[row]))
        elif kind == "blank_row":
            body.insert(row, [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for cells in body:
        if cells:
            writer.writerow(cells)
        else:
            out.write("\r\n")
    return out.getvalue().encode()


@FUZZ
@given(st.binary(max_size=4096))
def test_ingest_on_arbitrary_bytes(data):
    check_ingest(data, "ingest: arbitrary bytes")


@FUZZ
@given(st.text(max_size=2048))
def test_ingest_on_arbitrary_text(text):
    check_ingest(text.encode(), "ingest: arbitrary text")


@FUZZ
@given(csv_documents())
def test_ingest_on_csv_shaped_text(data):
    check_ingest(data, "ingest: CSV-shaped text")


@FUZZ
@given(st.integers(0, 1000), MUTATIONS)
def test_ingest_on_byte_mutated_exports(which, mutations):
    world = ingest_world()
    check_ingest(mutate(world.bases[which % len(world.bases)], mutations, world.bases), "ingest: byte-mutated exports")


@FUZZ
@given(st.integers(0, 1000), st.lists(CELL_EDIT, min_size=1, max_size=6))
def test_ingest_on_cell_mutated_exports(which, edits):
    world = ingest_world()
    check_ingest(edit_cells(world.bases[which % len(world.bases)], edits), "ingest: cell-mutated exports")


# -- the faults the properties found, pinned down ------------------------------------------------------


def _valid_export() -> bytes:
    return ingest_world().bases[0]


def test_a_header_that_is_not_utf8_is_refused_naming_the_file():
    check_ingest(b"\xff\xfe" + _valid_export(), "pinned")  # e.g. a UTF-16 export


def test_a_byte_that_is_not_utf8_in_the_middle_loses_no_row():
    """A stray cp1252 byte (0xA3, a pound sign) mid-file: the rows around it must still be counted
    (or the whole file refused), never silently dropped. Needs more than one 8 KiB read to show."""
    base = _valid_export()
    header, body = base.split(b"\r\n", 1)
    data = header + b"\r\n" + body * 30
    cut = data.index(b"\r\n", len(data) // 2) + 2
    check_ingest(data[:cut] + b"\xa3" + data[cut:], "pinned")


def test_an_oversized_header_cell_is_refused_naming_the_file():
    check_ingest(b"x" * (MAX_FIELD_BYTES + 1) + b"\r\n" + _valid_export(), "pinned")


def test_an_export_ending_inside_a_multibyte_character_is_read_to_its_end(tmp_path):
    """Strict decoding raised at a truncated last character on every read, for ever: the ingest
    looped, adding a rejection each time, until memory ran out (bench/fuzz.py was OOM-killed at
    24 GB). Run in a child with a memory cap and a timeout, so a regression fails instead of hanging."""
    path = tmp_path / "truncated.csv"
    path.write_bytes(_valid_export() + b"NS/26/1,\xc3")
    code = "\n".join([
        "import resource, sys",
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))",
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})",
        "from tests.test_fuzz import check_ingest",
        f"check_ingest(open({str(path)!r}, 'rb').read(), 'pinned')",
    ])
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-2000:]


def test_valid_exports_are_read_whole():
    world = ingest_world()
    for base in world.bases:
        world.path.write_bytes(base)
        result = read_export(world.path, world.dataset, world.columns, world.formats)
        assert (len(result.accepted), len(result.rejected)) == (10, 3)
