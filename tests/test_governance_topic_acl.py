"""Who may read the governance topic (every signatory not withdrawn, and the sanitiser), and that
`acl apply --prune-unowned` never removes the registry operator's right to write it."""

from __future__ import annotations

import dataclasses

from exchange.core.acl import AclBinding, Operation, PatternType, ResourceType, desired_bindings, plan
from exchange.core.names import GOVERNANCE_TOPIC
from exchange.core.partnership import Partnership
from exchange.core.schemas import catalogue
from tests.support.governance import TODAY, config_mapping, readers


def test_every_signatory_but_a_withdrawn_one_reads_the_chain_and_the_operators_write_is_never_pruned():
    base = Partnership.from_mapping(config_mapping())
    charity = dataclasses.replace(base.signatories["charity"], status="suspended")
    committee = dataclasses.replace(base.signatories["committee"], status="withdrawn")
    partnership = dataclasses.replace(base, signatories={**base.signatories, "charity": charity,
                                                         "committee": committee})
    desired = desired_bindings(partnership, catalogue(), TODAY)
    assert readers(desired, GOVERNANCE_TOPIC) == {"User:police", "User:council", "User:charity", "User:sanitiser"}

    operator = {AclBinding("User:registry", ResourceType.TOPIC, PatternType.LITERAL, GOVERNANCE_TOPIC, operation)
                for operation in (Operation.WRITE, Operation.READ)}
    former = AclBinding("User:former-partner", ResourceType.TOPIC, PatternType.LITERAL, GOVERNANCE_TOPIC,
                        Operation.READ)
    pruned = plan(desired, desired | operator | {former}, owned={former}, prune_unowned=True)
    assert former in pruned.to_remove  # made by the exchange, no longer called for
    assert not operator & pruned.to_remove
