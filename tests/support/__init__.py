"""Test support: the shared partnership helpers, broker helpers, in-memory Kafka fakes and the
kill -9 fault harness. Tests import from here, never from conftest."""
