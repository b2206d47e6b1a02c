"""Reference tables used to make outputs readable. Pure data."""

from __future__ import annotations

__all__ = ["HOME_OFFICE_OFFENCES", "offence_name"]

# Home Office offence classification codes used in the demo and briefings (a subset).
HOME_OFFICE_OFFENCES = {
    "8/1": "Assault with injury",
    "9/1": "Public fear, alarm or distress",
    "28/3": "Burglary - residential",
    "30/1": "Burglary - business and community",
    "34/1": "Robbery of personal property",
    "39/0": "Theft from the person",
    "45/0": "Theft from a vehicle",
    "46/0": "Shoplifting",
    "48/0": "Theft or unauthorised taking of a vehicle",
    "58/1": "Criminal damage to a dwelling",
    "58/4": "Criminal damage to a vehicle",
    "92/1": "Possession of cannabis",
    "105/1": "Assault without injury",
}


def offence_name(code: str) -> str:
    return HOME_OFFICE_OFFENCES.get(code, f"Offence code {code}")
