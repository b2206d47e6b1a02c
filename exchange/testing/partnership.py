"""A synthetic partnership for the demo and the tests: keys, ISP config, agent mapping, and a
police recorded-crime export built on the synthetic gazetteer. Nothing here is real data."""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from exchange.crypto.keys import KeyPair

POLICE = "northshire-police"
COUNCIL = "northshire-council"
VOLUNTARY = "northshire-victim-support"
DATASET = "police_crime_offence"

OFFENCE_WEIGHTS = {"28/3": 14, "30/1": 5, "45/0": 12, "48/0": 5, "58/1": 10, "58/4": 8, "8/1": 8, "105/1": 10,
                   "34/1": 3, "39/0": 4, "46/0": 12, "92/1": 6, "9/1": 6}
METHODS = ["Rear window forced with a screwdriver", "Front door lock snapped", "Insecure back door",
           "Side gate climbed, patio door forced", "Window smashed", "Key taken through letterbox",
           "Entry via insecure window; neighbour Mr Jones at 14 Elm Road saw a man", "Door panel kicked in"]
PROPERTY = ["Laptop and jewellery", "Car keys and Ford Focus", "Cash and bank cards", "Mobile phone",
            "Bicycle", "Tools from van", "Handbag; owner called 07700 900123 to report", "Nothing taken"]
NON_ADDRESSABLE = ["Victoria Park", "Station Car Park", "Canal towpath", "Recreation Ground", "Market Square"]


@dataclass(frozen=True)
class DemoFiles:
    root: Path
    partnership: Path
    agent_config: Path
    gazetteer: Path
    keys: dict[str, Path]  # party id -> key file


def _toml_keys(keypair: KeyPair) -> str:
    public = keypair.public.as_config()
    return f'x25519 = "{public["x25519"]}"\ned25519 = "{public["ed25519"]}"\n'


def make_partnership(root: Path, passphrase: str, *, gazetteer: Path, k: int = 4) -> DemoFiles:
    """Keys for the sanitiser and three signatories, the ISP config and the police agent's mapping."""
    root.mkdir(parents=True, exist_ok=True)
    parties = {"sanitiser": KeyPair.generate("sanitiser", with_pseudonym_secret=True),
               POLICE: KeyPair.generate(POLICE), COUNCIL: KeyPair.generate(COUNCIL),
               VOLUNTARY: KeyPair.generate(VOLUNTARY)}
    key_files = {}
    for name, keypair in parties.items():
        key_files[name] = root / "keys" / f"{name}.key"
        keypair.save(key_files[name], passphrase)
    expires = dt.date.today() + dt.timedelta(days=365)
    partnership = root / "partnership.toml"
    partnership.write_text(
        f"""# Synthetic partnership written by `exchange demo`. Not real agencies, not real keys.
[partnership]
name = "Northshire Community Safety Partnership"
k_households = {k}
retention_days = 365

[sanitiser]
{_toml_keys(parties["sanitiser"])}
[[signatory]]
id = "{POLICE}"
name = "Northshire Police"
kind = "responsible_authority"
tier = 1
status = "active"
supplies = ["{DATASET}"]
liaison_officer = "DLO, Northshire Police Analysis Unit"
{_toml_keys(parties[POLICE])}
[[signatory]]
id = "{COUNCIL}"
name = "Northshire District Council"
kind = "responsible_authority"
tier = 1
status = "active"
liaison_officer = "Community Safety Manager"
{_toml_keys(parties[COUNCIL])}
[[signatory]]
id = "{VOLUNTARY}"
name = "Northshire Victim Support"
kind = "other"
tier = 2
status = "active"
liaison_officer = "Service Manager"
{_toml_keys(parties[VOLUNTARY])}
[[grant]]
signatory = "{COUNCIL}"
dataset = "{DATASET}"
purpose = "Strategic assessment and daily tasking of the partnership"
legal_basis = "Crime and Disorder Act 1998 s.115"
approved_by = "{POLICE}"
expires = {expires.isoformat()}

# The police mark their supply OFFICIAL-SENSITIVE and declare that its depersonalised form may be
# shared as OFFICIAL: without this line the shared records would stay OFFICIAL-SENSITIVE.
[markings.depersonalised.{POLICE}]
{DATASET} = "OFFICIAL"
""")
    agent_config = root / "police-agent.toml"
    agent_config.write_text(
        f"""# How Northshire Police's crime export maps onto police_crime_offence.
[agent]
signatory = "{POLICE}"
dataset = "{DATASET}"
marking = "OFFICIAL-SENSITIVE"
key_file = "keys/{POLICE}.key"
outbox = "police-outbox.db"
partnership = "partnership.toml"
supplier_contact = "Analysis Unit, Northshire Police"
caveats = "Crimes recorded in the period; locations as recorded by the reporting officer."

[columns]
crime_ref = "CrimeNumber"
offence_code = "HOOffenceCode"
committed_from_date = "FromDate"
committed_from_time = "FromTime"
committed_to_date = "ToDate"
committed_to_time = "ToTime"
address = "LocationAddress"
postcode = "Postcode"
easting = "Easting"
northing = "Northing"
location_type = "LocationType"
method_of_entry = "MethodOfEntry"
property_stolen = "PropertyStolen"
weapon = "Weapon"
flag_distraction_burglary = "DistractionBurglary"
flag_drugs = "DrugsFlag"
flag_alcohol = "AlcoholFlag"
flag_racially_motivated = "RaciallyMotivated"
flag_domestic = "DomesticFlag"

[formats]
dates = ["%d/%m/%Y"]
times = ["%H:%M"]
""")
    return DemoFiles(root, partnership, agent_config, gazetteer, key_files)


COLUMNS = ["CrimeNumber", "HOOffenceCode", "FromDate", "FromTime", "ToDate", "ToTime", "LocationAddress", "Postcode",
           "Easting", "Northing", "LocationType", "MethodOfEntry", "PropertyStolen", "Weapon", "DistractionBurglary",
           "DrugsFlag", "AlcoholFlag", "RaciallyMotivated", "DomesticFlag"]


def police_offence_export(gazetteer, path: Path, *, rows: int = 300, bad_rows: int = 6, seed: int = 7,
                          today: dt.date | None = None) -> int:
    """Write a police crime export (the force's own column names) with `bad_rows` faulty rows mixed in.

    Returns the number of good rows. Addresses carry house numbers, names and flats, as real ones do.
    """
    rng = random.Random(seed)
    today = today or dt.date.today()
    postcodes = sorted((c for c in gazetteer if gazetteer.streets(c.postcode)), key=lambda c: c.postcode)
    codes, weights = list(OFFENCE_WEIGHTS), list(OFFENCE_WEIGHTS.values())
    out_rows = []
    for index in range(rows):
        centroid = rng.choice(postcodes)
        street = rng.choice(gazetteer.streets(centroid.postcode))
        locality = gazetteer.locality(centroid.postcode) or "Northtown"
        start = today - dt.timedelta(days=rng.randint(1, 28))
        code = rng.choices(codes, weights)[0]
        non_addressable = rng.random() < 0.08
        if non_addressable:
            address = f"{rng.choice(NON_ADDRESSABLE)}, {locality}"
            easting, northing = centroid.easting + rng.uniform(-150, 150), centroid.northing + rng.uniform(-150, 150)
        else:
            number = rng.randint(1, 180)
            address = rng.choice([
                f"{number} {street}, {locality}", f"{number}a {street}, {locality}",
                f"Flat {rng.randint(1, 12)}, {number} {street}, {locality}",
                f"{rng.choice(['Rose Cottage', 'The Old Rectory', 'Meadow View'])}, {street}, {locality}",
                f"{number}-{number + 2} {street}, {locality}"])
            easting, northing = centroid.easting + rng.uniform(-40, 40), centroid.northing + rng.uniform(-40, 40)
        burglary = code in ("28/3", "30/1")
        out_rows.append({
            # Unique per export seed too: two exports are two sets of crimes, not corrections of one.
            "CrimeNumber": f"NS/{start:%y}/{seed % 1000:03d}{index:05d}", "HOOffenceCode": code,
            "FromDate": f"{start:%d/%m/%Y}", "FromTime": f"{rng.randint(0, 23):02d}:{rng.choice([0, 15, 30, 45]):02d}",
            "ToDate": f"{start + dt.timedelta(days=rng.choice([0, 0, 1])):%d/%m/%Y}", "ToTime": "",
            "LocationAddress": address, "Postcode": centroid.postcode, "Easting": f"{easting:.0f}",
            "Northing": f"{northing:.0f}",
            "LocationType": "non_addressable" if non_addressable else "addressable",
            "MethodOfEntry": rng.choice(METHODS) if burglary else "",
            "PropertyStolen": rng.choice(PROPERTY) if burglary or code.startswith("4") else "",
            "Weapon": "Knife" if code == "34/1" and rng.random() < 0.3 else "",
            "DistractionBurglary": "Y" if burglary and rng.random() < 0.05 else "N",
            "DrugsFlag": "Y" if code == "92/1" else "N",
            "AlcoholFlag": "Y" if rng.random() < 0.15 else "N",
            "RaciallyMotivated": "Y" if rng.random() < 0.02 else "N",
            "DomesticFlag": "Y" if code in ("8/1", "105/1") and rng.random() < 0.4 else "N",
        })
    faults = [("Postcode", "NOT A POSTCODE"), ("FromDate", "31/02/2026"), ("Easting", "9999999"),
              ("LocationType", "house"), ("CrimeNumber", ""),
              ("FromDate", (today + dt.timedelta(days=30)).strftime("%d/%m/%Y"))]
    for index in range(bad_rows):
        column, value = faults[index % len(faults)]
        victim = out_rows[rng.randrange(len(out_rows))]
        bad = dict(victim, CrimeNumber=f"NS/BAD/{index}")
        bad[column] = value
        out_rows.append(bad)
    rng.shuffle(out_rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(out_rows)
    return rows
