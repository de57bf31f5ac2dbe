"""Ground truth: who really is who, so analytics can be scored by recall and precision.

``Truth.people`` lists every person in the files (ring, victims, buyers, innocents) with the
identifiers that really belong to them, phones in E.164 and accounts normalised (uppercase, no spaces),
exactly as the ingest tables normalise them. ``controllers``, ``ring_members`` and ``victims`` are
views on the same list (the same dicts). The file ``truth.json`` has the same keys, except that
those three views hold person ids, to keep the file free of duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

ROLES = ("recruiter", "controller", "driver", "money_handler", "victim", "buyer", "innocent")


class TruthPerson(TypedDict):
    """One person as the analysis should have resolved them."""

    person_id: str
    name: str
    role: str
    ring_member: bool
    minor: bool
    age: int
    home_city: str
    phones: list[str]
    emails: list[str]
    accounts: list[str]
    aliases: list[str]


@dataclass
class Truth:
    """What the generator knows and the analysis must discover."""

    seed: int
    scale: float
    people: list[TruthPerson]
    circuit: list[dict[str, Any]] = field(default_factory=list)
    funnel_accounts: list[str] = field(default_factory=list)
    ring_ad_ids: list[str] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)

    def with_role(self, *roles: str) -> list[TruthPerson]:
        """People having any of ``roles``."""
        return [p for p in self.people if p["role"] in roles]

    @property
    def controllers(self) -> list[TruthPerson]:
        """The two controllers."""
        return self.with_role("controller")

    @property
    def ring_members(self) -> list[TruthPerson]:
        """Controllers, recruiters, drivers and the money handler (victims are not members)."""
        return [p for p in self.people if p["ring_member"]]

    @property
    def victims(self) -> list[TruthPerson]:
        """Adult and minor victims."""
        return self.with_role("victim")

    def person(self, person_id: str) -> TruthPerson:
        """Look a person up by id."""
        for p in self.people:
            if p["person_id"] == person_id:
                return p
        raise KeyError(person_id)

    def owner_of_phone(self) -> dict[str, str]:
        """E.164 phone -> person id, for scoring resolution."""
        return {phone: p["person_id"] for p in self.people for phone in p["phones"]}

    def __getitem__(self, key: str) -> Any:
        """Dict-style access (``truth["victims"]``) for code that treats the truth as JSON."""
        return getattr(self, key)

    def to_dict(self) -> dict[str, Any]:
        """The ``truth.json`` document."""
        return {
            "seed": self.seed,
            "scale": self.scale,
            "controllers": [p["person_id"] for p in self.controllers],
            "ring_members": [p["person_id"] for p in self.ring_members],
            "victims": [p["person_id"] for p in self.victims],
            "circuit": self.circuit,
            "funnel_accounts": self.funnel_accounts,
            "ring_ad_ids": self.ring_ad_ids,
            "devices": self.devices,
            "people": self.people,
        }
