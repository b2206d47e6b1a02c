"""The fuzzing harness: hostile inputs for the envelope decoders and the CSV ingest, and the
checks each input must pass (raise nothing but the documented error, open nothing that was not
sealed). tests/test_fuzz.py drives it with hypothesis; bench/fuzz.py drives it at volume."""

from __future__ import annotations

import atexit
import csv
import io
import random
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from agents.ingest import MAX_FIELD_BYTES, read_export, write_quarantine
from exchange.crypto.envelope import (
    GrantInfo,
    Header,
    Opener,
    Sealer,
    read_header,
)
from exchange.errors import ConfigError, EnvelopeError

# What each target saw: target -> outcome -> count (read by bench/fuzz.py).
TALLY: dict[str, Counter] = defaultdict(Counter)


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
        (Sealer(producer="fire", keys=keys["fire"], topic="raw.fire_incident",
                recipients={"council": x["council"]}), 2),
        (Sealer(producer="stranger", keys=keys["stranger"], topic="raw.police_crime_offence",
                recipients={"sanitiser": x["sanitiser"]}), 2),
    ]
    envelopes, grants = [], []
    for sealer, count in sealers:
        for index in range(count):
            payload = rng.choice([b"", b"x", rng.randbytes(rng.randint(1, 400)), "Ünïcode record £".encode()])
            sealed = sealer.seal(payload, message_id=f"{sealer.producer}-{index}-{rng.getrandbits(64):x}",
                                 dataset=sealer.topic.split(".", 1)[1],
                                 schema_fingerprint=f"{rng.getrandbits(256):064x}",
                                 marking=rng.choice(["OFFICIAL", "OFFICIAL-SENSITIVE",
                                                     "OFFICIAL-SENSITIVE [PERSONAL]"]),
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
    assert isinstance(exc.reason_code, str) and exc.reason_code.strip(), (
        f"{call}: {type(exc).__name__} without a reason code")
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


INTERESTING_BYTES = (0x00, 0x01, 0x02, 0x3F, 0x40, 0x7F, 0x80, 0x81, 0xFE, 0xFF)


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


PARTIES = ("police", "fire", "stranger", "sanitiser", "council", "")


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

    config = AgentConfig.load(Path(__file__).resolve().parents[2] / "config" / "agents" / "police.toml")
    assert config.dataset == DATASET and set(config.columns.values()) == set(COLUMNS), "demo mapping and export differ"
    dataset = catalogue()[DATASET]
    # A header must hold the dataset's required columns and every column the mapping names.
    required = frozenset(config.columns.get(f.name, f.name) for f in dataset.fields
                         if not f.nullable and f.avro_type != "boolean") | frozenset(config.columns.values())
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
    # The delimiter: the one of , ; tab | that the first physical line holds most of (a comma if none).
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0][:MAX_FIELD_BYTES]
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d]) if max(counts.values()) else ","
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if row]
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
            assert world.lacks_required(reference.header), (
                f"a well-formed export with every required column refused: {message}")
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


CELL_VALUES = (
    "", " ", "Y", "N", "yes", "no", "true", "0", "1", "maybe", "addressable", "non_addressable", "house",
    "01/01/2024", "31/02/2026", "29/02/2024", "01/01/0001", "31/12/9999", "1/1/2024", "2024-01-01", "99/99/9999",
    "00:00", "23:59", "24:00", "7:5", "12:00:00", "-1", "0.5", "1e400", "-1e400", "nan", "inf", "-0", "1_000",
    "700000", "700000.0001", "1300000", "-0.0", "٣٤٥", "CV32 4AB", "cv324ab", "CV32  4AB", "GIR 0AA", "NOT A POSTCODE",
    "28/3", "NS/26/100001", "12 High Street, Northtown", "Flat 3, 14 Elm Road", "\x00", "é", "\ufeff", "\u2028", '"',
    "a,b", "line\nbreak", "cr\rhere", "=cmd|' /C calc'!A0", "x" * 5000, "9" * 5000,
)


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


def random_csv_document(rng: random.Random) -> bytes:
    """csv_documents(), drawn with `random` (for the fast driver in bench/fuzz.py)."""
    columns = list(ingest_world().header)
    if rng.random() < 0.5:
        rng.shuffle(columns)
    columns = [c for c in columns if rng.randint(0, 30) > 0]
    columns += [random_cell(rng)[:8] for _ in range(rng.choice([0, 0, 0, 1, 2]))]
    rows = [(rng.randrange(1001),
             [(rng.randrange(1 << 20), random_cell(rng)) for _ in range(rng.choice([0, 0, 1, 2, 3]))],
             rng.choice(WIDTH_CHANGES), rng.randint(0, 15) == 0) for _ in range(rng.randint(0, 12))]
    return build_csv(columns, rows, rng.choice(LINE_ENDS), rng.random() < 0.5)


def random_cell(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(CELL_VALUES)
    return "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0, 0x2FFF)])) for _ in range(rng.randint(0, 24)))


def random_cell_edit(rng: random.Random) -> tuple:
    kind = rng.choice(["set", "set", "set", "clear_column", "drop_cell", "add_cell", "drop_row", "copy_row",
                       "blank_row"])
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


