"""Configuration files are checked against their declared shape: wrong types are refused with the
file, the key and what was expected, never silently coerced."""

from __future__ import annotations

import copy

import pytest

from agents.config import AgentConfig
from exchange.core.partnership import Partnership
from exchange.errors import ConfigError
from tests.support.governance import keys

BASE = {
    "partnership": {"name": "Test CSP"},
    "sanitiser": keys(),
    "signatory": [{"id": "police", "name": "Police", "kind": "responsible_authority", "tier": 1, "status": "active",
                   "supplies": ["police_crime_offence"], **keys()}],
}


def document(**changes) -> dict:
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return doc


@pytest.mark.parametrize("changes, key, expected", [
    ({"signatory__0__tier": True}, "signatory[1].tier", "valid integer"),
    ({"signatory__0__tier": 4}, "signatory[1].tier", "less than or equal to 3"),
    ({"signatory__0__supplies": "abc"}, "signatory[1].supplies", "valid list"),
    ({"partnership__k_households": 1.9}, "partnership.k_households", "valid integer"),
    ({"signatory": {"id": "police"}}, "signatory", "valid list"),
    ({"partnership__retention_days": "365"}, "partnership.retention_days", "valid integer"),
    ({"partnership__colour": "blue"}, "partnership.colour", "extra inputs are not permitted"),
    ({"signatory__0__kind": "charity"}, "signatory[1].kind", "responsible_authority"),
])
def test_a_value_of_the_wrong_type_is_refused_naming_file_key_and_expectation(changes, key, expected):
    with pytest.raises(ConfigError) as refused:
        Partnership.from_mapping(document(**changes), origin="isp.toml")
    message = str(refused.value)
    assert message.startswith("isp.toml: ") and f"{key}: " in message and expected in message, message


def test_k_below_the_guidance_s_minimum_needs_an_acknowledgement_and_is_then_warned_of():
    with pytest.raises(ConfigError, match="k_households = 3 is below the guidance's minimum of 4"):
        Partnership.from_mapping(document(partnership__k_households=3))
    accepted = Partnership.from_mapping(document(partnership__k_households=3,
                                                 partnership__k_below_minimum_acknowledged=True))
    assert accepted.k_households == 3 and any("below the guidance's minimum" in w for w in accepted.warnings)
    assert Partnership.from_mapping(document()).warnings == ()


@pytest.mark.parametrize("legacy", [{"SECRET": "OFFICIAL"}, {"confidential": "OFFICIAL-SENSITIVE"},
                                    {"Top  Secret [PERSONAL]": "OFFICIAL"}])
def test_a_legacy_table_cannot_map_anything_above_official_down(legacy):
    with pytest.raises(ConfigError, match="above OFFICIAL; it cannot be mapped down"):
        Partnership.from_mapping({**document(), "markings": {"legacy": legacy}})


def test_a_legacy_table_must_map_onto_a_classification_the_exchange_carries():
    with pytest.raises(ConfigError, match="maps to 'SECRET'"):
        Partnership.from_mapping({**document(), "markings": {"legacy": {"PROTECT": "SECRET"}}})
    ok = Partnership.from_mapping({**document(), "markings": {"legacy": {"IN CONFIDENCE": "OFFICIAL-SENSITIVE"}}})
    assert ok.legacy_markings["IN CONFIDENCE"] == "OFFICIAL-SENSITIVE"


def test_an_agent_config_of_the_wrong_types_is_refused(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nsignatory = "police"\ndataset = "police_crime_offence"\nmarking = "OFFICIAL"\n'
                    'key_file = "k.key"\noutbox = "o.db"\npartnership = "p.toml"\n'
                    '[columns]\ncrime_ref = 3\n[formats]\ndates = "%d/%m/%Y"\n')
    with pytest.raises(ConfigError) as refused:
        AgentConfig.load(path)
    message = str(refused.value)
    assert str(path) in message and "columns.crime_ref" in message and "formats.dates" in message
