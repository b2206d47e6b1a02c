"""The Community Safety Partnership secure exchange.

One sub-package per layer (docs/design.md, "Layout"):

    core/        the rules, pure: no Kafka, SQLite, files beyond the schemas, clock or network
    crypto/      envelope, key files, pseudonyms; only _primitives touches the libraries
    storage/     SQLite and CSV files; the gazetteer
    transport/   Kafka: settings, the one consume loop, topic readers, the embedded broker
    services/    where the layers meet: sanitiser and feed (a core each), offline, exports, demo
    cli/         the `exchange` command
    testing/     synthetic data for the demo, the tests and the benchmarks
    errors.py    every exception and the refusal ReasonCode
"""

__version__ = "0.1.0"
