"""Storage at the edge: every SQLite file the exchange keeps (one way of opening them, in
`_sqlite`: WAL, synchronous=FULL) and the CSV files it reads and writes.

    feed_store        a subscriber's records (one per record key), supplies, aggregates, refusals
    tallies           the sanitiser's aggregate counts, one per released record
    geopackage        GeoPackage 1.3 files (EPSG:27700) for QGIS
    outbox            an agent's sealed messages until the broker acknowledges them
    audit             the hash-chained audit trail
    registry          the live ISP state and its history (rules: exchange.core.governance)
    gazetteer         postcode centroids and households; nearest qualifying postcode
    csvfiles          the one CSV edge: exports in, shared form and quarantine out
"""

__all__ = [  # the public modules of this layer
    "audit", "csvfiles", "feed_store", "gazetteer", "geopackage", "outbox", "registry", "tallies",
]
