"""Where the layers meet: each service is a core (decisions, no Kafka or SQLite of its own) and a
thin service that runs it on the consume loop.

    sanitiser_core / sanitiser   verify, open, depersonalise, mark, re-seal, republish
    feed_core / feed             a subscriber's near-real-time feed
    offline                      `exchange sanitise`: the sanitiser's rules on a CSV file
    exports                      what a feed holds, as files analysts open; writers in _export_{handling,tables,geo}
    briefings                    the briefing page from a feed store, written or served
    aggregates                   publishing the aggregate tables (a chore of the sanitiser)
    health                       /status and /metrics of a daemon (prometheus-client)
    _local_http                  serving on 127.0.0.1 only, from a thread (briefing, health)
    governance                   ACL reconcile and the signatory dossier
    originator_report            `exchange audit report`: the originator's report, read and rendered
    demo                         the whole pipeline on the embedded broker
"""

__all__ = [  # the public modules of this layer
    "aggregates", "briefings", "demo", "exports", "feed", "feed_core", "governance", "health", "offline",
    "originator_report", "sanitiser", "sanitiser_core",
]
