"""The pure core: every rule of the exchange, with no I/O (no Kafka, SQLite, files beyond reading
the schemas, clock or network). tests/test_layout.py keeps it so.

    names            topic, group and principal names
    schemas          the dataset catalogue: each schema is also its sharing policy
    validation       an export row -> a typed raw record, and cross-field checks
    postcode         UK postcodes: normalising, sectors
    address          address strings without house number, name or flat
    redact           free-text scrubbing: the public surface and the order of the passes; the rules in
                     _redact_numbers, _redact_places, _redact_names (+ _redact_name_patterns,
                     _redact_name_checks), the work area in _redact_work, word lists in _redact_words
    depersonalise    the Home Office Appendix 1 rules, field by field
    record_sanitiser one record through the sanitiser's rules: check, depersonalise, mark, caveats
    marking          Government Security Classifications, legacy markings
    partnership      the ISP as data: signatories, tiers (TIERS, stated once), grants, decisions
    governance       status transitions, approval and grant rules, registry records
    acl              the broker ACL bindings the partnership calls for, and the plan to get there
    risk             k-anonymity report over quasi-identifiers
    briefing         the briefing's figures; parts in _briefing_{stats,records,map,freshness}
    briefing_page    the briefing as one self-contained page (HTML, inline SVG) and as text
    aggregates       counts for scrutiny by month, sector and category; suppression
    audit_events     the facts the audit trail records
    originator_report the originator's view of the sanitiser's audit: who received what, under which grant
    messages         what a service core takes in and gives out
    public_keys      public keys as the config shows them
    avro             Avro encoding against the schemas
    reference        code lists (Home Office offence names)
"""

__all__ = [  # the public modules of this layer
    "acl", "address", "aggregates", "audit_events", "avro", "briefing", "briefing_page", "depersonalise",
    "governance", "marking", "messages", "names", "originator_report", "partnership", "postcode", "public_keys",
    "record_sanitiser", "redact", "reference", "risk", "schemas", "validation",
]
