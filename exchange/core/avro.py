"""Avro plumbing: where the .avsc files live, and a small codec per schema (fastavro)."""

from __future__ import annotations

import io
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from exchange.errors import AvroDecodeError

__all__ = ["SCHEMA_DIR_ENV", "codec", "Codec", "load_schema_json", "schema_dir"]

SCHEMA_DIR_ENV = "EXCHANGE_SCHEMA_DIR"


def schema_dir() -> Path:
    """$EXCHANGE_SCHEMA_DIR, else schemas/avro beside the installed source tree."""
    override = os.environ.get(SCHEMA_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "schemas" / "avro"


class Codec:
    """Encode/decode one schema, schemaless (the fingerprint travels in the envelope header)."""

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema
        self.parsed = fastavro.parse_schema(schema)
        self.fingerprint = fingerprint(to_parsing_canonical_form(self.parsed), "SHA-256")

    def encode(self, record: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, self.parsed, record)
        return out.getvalue()

    def decode(self, data: bytes, writer: Codec | None = None) -> dict[str, Any]:
        """Decode bytes; with a writer codec, resolve an older writer schema to this one."""
        buffer = io.BytesIO(data)
        record = self.read(buffer, writer)
        if buffer.tell() != len(data):
            raise AvroDecodeError(f"{len(data) - buffer.tell()} trailing bytes after {self.schema.get('name')}")
        return record

    def read(self, buffer: io.BytesIO, writer: Codec | None = None) -> dict[str, Any]:
        """Decode one record at the buffer's position, leaving it just after the record: for a
        record whose encoding is the first part of a larger one."""
        try:
            if writer is None:
                record = fastavro.schemaless_reader(buffer, self.parsed)
            else:
                record = fastavro.schemaless_reader(buffer, writer.parsed, self.parsed)
        except Exception as exc:  # fastavro raises many types on bad input; name none of the bytes
            raise AvroDecodeError(f"not a valid {self.schema.get('name')} encoding ({exc.__class__.__name__})") from exc
        if not isinstance(record, dict):
            raise AvroDecodeError(f"not a {self.schema.get('name')} record")
        return record


def load_schema_json(name: str) -> dict[str, Any]:
    path = schema_dir() / f"{name}.avsc"
    try:
        schema: dict[str, Any] = json.loads(path.read_text())
        return schema
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"no schema {name!r} at {path}") from exc


@cache
def codec(name: str) -> Codec:
    """The codec of a schema file in the schema directory, by file stem."""
    return Codec(load_schema_json(name))
