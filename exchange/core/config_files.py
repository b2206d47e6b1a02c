"""The declared shape of the exchange's configuration files, checked before anything reads them.

Each TOML file is validated against a schema here (pydantic, strict: `tier = true` is not tier 1,
`supplies = "abc"` is not three datasets, `k_households = 1.9` is not 1, unknown keys are
refused). An error names the file, the key (as a path: `signatory[2].tier`) and what was
expected, and every error in the file is listed at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from exchange.errors import ConfigError

__all__ = [
    "K_MINIMUM", "AgentFile", "GrantEntry", "InboxTable", "LinkageEntry", "MarkingTables", "PartnershipFile",
    "PartnershipTable", "SignatoryEntry", "SiteFile", "validated",
]

K_MINIMUM = 4  # the Home Office guidance's minimum households for a postcode to stand for a location

Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
PartyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
DatasetId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
Key = Annotated[str, StringConstraints(min_length=1, max_length=100)]  # base64 of 32 bytes: PublicKeys checks it


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class PartnershipTable(_Strict):
    name: Text
    k_households: int = Field(default=K_MINIMUM, ge=1)
    # k below the guidance's minimum is refused unless the partnership says, here, that it decided so.
    k_below_minimum_acknowledged: bool = False
    # How long shared records are kept, unless the originator says otherwise ([retention]): three
    # years, so that a strategic assessment can compare a year with the one before.
    retention_days: int = Field(default=1095, ge=1, le=36500)


class KeyPairEntry(_Strict):
    x25519: Key
    ed25519: Key


class SignatoryEntry(_Strict):
    id: PartyId
    name: Text
    kind: Literal["responsible_authority", "co_operating_body", "other"]
    tier: int = Field(ge=1, le=3)  # strict: `true` is not tier 1
    status: Literal["proposed", "active", "suspended", "withdrawn"] = "proposed"
    principal: Annotated[str, StringConstraints(pattern=r"^User:[A-Za-z0-9._@=-]+$")] | None = None
    supplies: list[DatasetId] = []
    liaison_officer: str = ""
    x25519: Key
    ed25519: Key


class GrantEntry(_Strict):
    signatory: PartyId
    dataset: DatasetId
    purpose: str = ""
    legal_basis: str = ""
    approved_by: str = ""
    expires: dt.date
    # The legal basis permits sharing without the person's consent (ISP 5.1-5.4): only then does a
    # record whose consent was withheld reach this grantee.
    without_consent: bool = False
    # Need to know (exchange.core.views): the optional fields released, and the postcode districts
    # or sectors covered; empty: the whole dataset, everywhere.
    fields: list[Text] = []
    areas: list[Text] = []


class MarkingTables(_Strict):
    legacy: dict[str, Text] = {}
    release: dict[DatasetId, Text] = {}  # the least a dataset's depersonalised form is released as
    # What an originator declares its depersonalised form may carry, per dataset: the one way a
    # release can be marked lower than the supply was (by the originator's decision, recorded here).
    depersonalised: dict[PartyId, dict[DatasetId, Text]] = {}


class LinkageEntry(_Strict):
    """A pseudonym domain shared across originators: their references in it give equal tokens."""

    domain: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    originators: list[PartyId] = Field(min_length=2)
    legal_basis: Text


class AggregatesTable(_Strict):
    """Who receives the aggregate tables (counts by month, postcode sector and category, small
    numbers suppressed): scrutiny (tier 3) members, and any other signatory the partnership names."""

    recipients: list[PartyId] = []
    threshold: int = Field(default=5, ge=2, le=100)  # counts below it are shown as "<threshold"


class PartnershipFile(_Strict):
    partnership: PartnershipTable
    sanitiser: KeyPairEntry
    signatory: list[SignatoryEntry] = []
    grant: list[GrantEntry] = []
    markings: MarkingTables = MarkingTables()
    linkage: list[LinkageEntry] = []
    # Each originator's retention policy (ISP 13), in days, per dataset it supplies.
    retention: dict[PartyId, dict[DatasetId, Annotated[int, Field(ge=1, le=36500)]]] = {}
    aggregates: AggregatesTable = AggregatesTable()


class AgentTable(_Strict):
    signatory: PartyId
    dataset: DatasetId
    marking: Text
    key_file: Text
    outbox: Text
    # Where the partnership comes from: the ISP config file, or (preferred) the trust anchor, the
    # agent then reading the signed partnership state from the governance topic. One of the two.
    partnership: Text | None = None
    trust_anchor: Text | None = None
    supplier_contact: str = ""
    caveats: str | None = None
    encoding: Literal["utf-8", "windows-1252"] = "utf-8"  # what the agency's system writes its exports in
    # The marking this originator declares its depersonalised form may carry (lower than `marking`
    # only by this decision, which travels with every record and is audited at the sanitiser).
    depersonalised_marking: Text | None = None
    # Free-text fields this originator withholds instead of having them scrubbed: emptied at the
    # agent, so their text never leaves the agency.
    withhold_free_text: list[Text] = []


class HandlingTable(_Strict):
    """A column of the export carrying per-record handling: "not for dissemination" (withheld from
    everyone) or "sub judice" (released only to `sub_judice_recipients`)."""

    column: Text
    sub_judice_recipients: list[PartyId] = []


class WithdrawalTable(_Strict):
    """A status column whose values mark a row as withdrawn (no-crimed, cancelled): such a row
    withdraws its record from every subscriber instead of supplying it."""

    column: Text
    values: list[Text] = Field(min_length=1)


class FormatsTable(_Strict):
    dates: list[Text] | None = None
    times: list[Text] | None = None


class InboxTable(_Strict):
    """The folder `exchange agent run` watches for exports, and where it puts them afterwards.
    `processed` and `failed` default to folders inside `folder`, and must be on its filesystem
    (files are moved there by an atomic rename)."""

    folder: Text
    processed: Text | None = None  # default: <folder>/processed
    failed: Text | None = None  # default: <folder>/failed
    pattern: Text = "*.csv"  # which names in the folder are exports
    # Overwrite and delete an export once every record of it is acknowledged by the broker,
    # instead of keeping it in `processed`.
    delete_after_acknowledged: bool = False
    # A file not named *.part is taken as complete once its size and time have not changed for this long.
    stable_seconds: float = Field(default=2.0, ge=0, le=3600)


class AgentFile(_Strict):
    agent: AgentTable
    columns: dict[str, Text] = {}
    formats: FormatsTable = FormatsTable()
    handling: HandlingTable | None = None
    withdrawal: WithdrawalTable | None = None
    inbox: InboxTable | None = None


class SiteFile(_Strict):
    """One site's settings (`exchange --site FILE`, $EXCHANGE_CONFIG, ./exchange.toml): every key
    optional, each the default of the matching command-line option. Paths are relative to the file."""

    partnership: Text | None = None  # the ISP config
    registry: Text | None = None
    key_file: Text | None = None  # this site's key file
    signatory: PartyId | None = None  # this site's own id: the default of --as
    bootstrap: Text | None = None
    feed_db: Text | None = None  # the feed store
    audit: Text | None = None  # the audit log
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] | None = None
    sasl_mechanism: Text | None = None
    sasl_username: Text | None = None
    sasl_password_file: Text | None = None
    ssl_cafile: Text | None = None
    passphrase_file: Text | None = None  # the key passphrase file


Model = TypeVar("Model", bound=BaseModel)


def _where(location: tuple[int | str, ...]) -> str:
    out = ""
    for part in location:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the file"


def validated(model: type[Model], document: Mapping[str, Any], *, origin: str) -> Model:
    """`document` checked against `model`; ConfigError naming the file, each key and the reason."""
    try:
        return model.model_validate(dict(document))
    except ValidationError as exc:
        problems = [f"{_where(error['loc'])}: {error['msg'].lower()}"
                    + (f" (got {type(error['input']).__name__})" if error["type"] != "missing" else "")
                    for error in exc.errors(include_url=False)]
        raise ConfigError(f"{origin}: " + "; ".join(problems)) from None
