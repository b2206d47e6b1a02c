"""Synthetic data for the demo, the tests and the benchmarks: never used by a running service.

    partnership        a synthetic partnership: keys, ISP config, agent mapping, a police export
    records            typed records of every dataset, placed on the synthetic gazetteer
    gazetteer          the synthetic postcode area "NX"
    redaction_corpus   the labelled sentences the scrubber is measured on
    redaction_labelled labelled sentences written independently of the scrubber's word lists (dev, held-out)
    fuzz               hostile inputs for the decoders and the ingest, and their checks
"""

__all__ = ["fuzz", "gazetteer", "partnership", "records", "redaction_corpus"]  # the public modules of this layer
