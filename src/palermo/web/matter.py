"""Draft a facts document (``palermo.domain.facts``) from a case's charges, for the calculators.

The calculators (exposure, guidelines, restitution) take a facts document. Rather than make a
prosecutor retype what the case already knows, the page starts from a draft built from the charges
and parties: one count per charge and victim, the defendant and victim pseudonyms as ids, the victim
age recorded on the charge, and the acts/means/purposes/flags stored in the charge's facts. The
person then edits it (dates, losses, work periods) and runs the engines on exactly what they see.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import yaml

_IDENT = re.compile(r"[^A-Za-z0-9_.-]+")
COUNT_KEYS = ("acts", "means", "purposes", "flags", "mens_rea", "duration_held_days", "underlying", "date")


def ident(label: str, fallback: str) -> str:
    """A facts-file id from a label (pseudonym or defendant name): letters, digits, ``_ . -``."""
    cleaned = _IDENT.sub("_", label.strip()).strip("_.-")[:40]
    return cleaned if cleaned and cleaned[0].isalnum() else fallback


def draft_matter(case: Any, charges: list[Any], victims: list[Any]) -> dict[str, Any]:
    """The facts document for ``case`` as a dict (see the module docstring for what it carries)."""
    defendants: dict[int, str] = {}
    victim_ids: dict[int, str] = {}
    ages = {v.id: v.age_at_offence for v in victims}
    counts: list[dict[str, Any]] = []
    for charge in charges:
        defendants.setdefault(charge.defendant_id, ident(charge.defendant, f"D{charge.defendant_id}"))
        for vid, label in zip(charge.victim_ids, charge.victims, strict=False):
            victim_ids.setdefault(vid, ident(label, f"V{vid}"))
            count: dict[str, Any] = {
                "number": len(counts) + 1,
                "offence": charge.offence_id,
                "defendant": defendants[charge.defendant_id],
                "victim": victim_ids[vid],
            }
            count.update({k: charge.facts[k] for k in COUNT_KEYS if k in charge.facts})
            counts.append(count)
    offence_date = next((c.facts.get("offence_date") for c in charges if c.facts.get("offence_date")), None)
    return {
        "title": case.title,
        "jurisdiction": case.jurisdiction,
        "offence_date": str(offence_date or date.today().isoformat()),
        "defendants": [{"id": d} for d in defendants.values()],
        "victims": [
            {"id": v, **({"age": charge_age} if (charge_age := _age(vid, charges, ages)) is not None else {})}
            for vid, v in victim_ids.items()
        ],
        "counts": counts,
    }


def _age(victim_id: int, charges: list[Any], ages: dict[int, int | None]) -> int | None:
    if ages.get(victim_id) is not None:
        return ages[victim_id]
    for charge in charges:
        if victim_id in charge.victim_ids and charge.victim_age is not None:
            return int(charge.victim_age)
    return None


def to_yaml(matter: dict[str, Any]) -> str:
    """The draft as YAML, the format lawyers edit facts files in."""
    return yaml.safe_dump(matter, sort_keys=False, allow_unicode=True)
