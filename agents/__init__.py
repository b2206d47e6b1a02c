"""The agency-side agent: reads an agency's export, validates, seals for the sanitiser, and
publishes through a durable outbox."""
