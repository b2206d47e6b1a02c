"""The example config in config/ is what an agency copies: it must load and be consistent."""

from agents.config import AgentConfig
from exchange.core.partnership import load_partnership
from exchange.core.schemas import catalogue
from tests.support.partnership import repo_root


def test_example_partnership_and_agent_mapping_load():
    partnership = load_partnership(repo_root() / "config" / "partnership.toml")
    agent = AgentConfig.load(repo_root() / "config" / "agents" / "police.toml")
    assert agent.partnership.resolve() == (repo_root() / "config" / "partnership.toml").resolve()
    assert partnership.may_supply(agent.signatory, agent.dataset)
    dataset = catalogue()[agent.dataset]
    assert set(agent.columns) == {f.name for f in dataset.fields}, "every schema field is mapped"
