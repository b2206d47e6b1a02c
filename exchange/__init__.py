"""The Community Safety Partnership secure exchange.

Pure domain modules (no I/O): postcode, address, redact, schemas, validation, depersonalise,
marking, partnership. Edges: envelope/keys (crypto), gazetteer (SQLite), kafka, agent,
sanitiser, feed, cli.
"""

__version__ = "0.1.0"
