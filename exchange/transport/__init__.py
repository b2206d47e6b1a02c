"""Kafka at the edge, through aiokafka; it carries bytes and knows nothing of envelopes or records.

    kafka        connection settings from the environment, client factories, topic creation
    loop         the one consume loop: handle, publish, settle, commit
    readers      reading topics from the beginning; the key-topic reader
    broker       the embedded Tansu broker (tests, demo, a laptop)
    acl_broker   CreateAcls / DescribeAcls / DeleteAcls
"""

__all__ = ["acl_broker", "broker", "kafka", "loop", "readers"]  # the public modules of this layer
