"""Charges: one count against one defendant, for one or more victims, with its elements materialised.

Why materialise the elements: the proof matrix links evidence to *this charge's* elements, and the
law library may change later (a new version of a statute file). Storing the elements, with whether
each must be proven and why not, keeps the matrix stable and explainable.

Victim age decides two things: whether the minor rule drops elements (the means of § 1591 for a
child) and which penalty tier applies. The age is the charge facts' ``victim_age`` if given, else
the victims' recorded ``age_at_offence``; with several victims the *oldest* is used, so an element
only falls away when every victim is a minor. A charge whose tier depends on the age, with no age
known, is refused: an exposure figure must never rest on a guessed age.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from palermo.domain.conditions import CountView, MissingFact, evaluate
from palermo.domain.elements import elements_to_prove
from palermo.errors import InputError, NotFoundError
from palermo.law.model import Provision
from palermo.store import repository
from palermo.store.ports import StoreContext
from palermo.store.schemas import ChargePublic, ElementPublic
from palermo.store.tables import Case, Charge, ChargeVictim, ElementRow, Party


def effective_age(facts: dict[str, Any], victims: Sequence[Party]) -> int | None:
    """The victim age that governs the charge (see module docstring), or None if unknown."""
    given = facts.get("victim_age")
    if given is not None:
        if not isinstance(given, int) or isinstance(given, bool) or not 0 <= given < 130:
            raise InputError(
                f"victim_age {given!r} must be a whole number of years", location="facts.victim_age"
            )
        return given
    ages = [v.age_at_offence for v in victims]
    if not ages or any(a is None for a in ages):
        return None
    return max(a for a in ages if a is not None)


FACT_LISTS = ("acts", "means", "purposes", "flags")


def count_view(facts: dict[str, Any], victim_age: int | None) -> CountView | None:
    """The charge facts as a condition view, or None when the charge states no acts/means/purposes/flags.

    Without stated facts no fact-dependent element is dropped: an element falls away only on facts
    the prosecutor has put on the record.
    """
    if not any(key in facts for key in FACT_LISTS):
        return None
    lists: dict[str, frozenset[str]] = {}
    for key in FACT_LISTS:
        value = facts.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{key} must be a list of vocabulary terms", location=f"facts.{key}")
        lists[key] = frozenset(value)
    return CountView(
        victim_age=victim_age,
        acts=lists["acts"],
        means=lists["means"],
        purposes=lists["purposes"],
        flags=lists["flags"],
    )


def element_rows(provision: Provision, victim_age: int | None, facts: dict[str, Any]) -> list[ElementRow]:
    """The charge's elements from the law, each required or not with the reason.

    Applicability comes from :func:`palermo.domain.elements.elements_to_prove` (the minor rule and
    age-only ``required_unless`` conditions), so the case store and the elements engine agree; other
    ``required_unless`` conditions (e.g. the § 1591(a)(2) venture element) are evaluated on the
    charge's stated facts (:func:`count_view`).
    """
    view = count_view(facts, victim_age)
    rows = []
    for position, (element, required, why) in enumerate(elements_to_prove(provision, victim_age), start=1):
        reason = None
        if required and view is not None and element.required_unless is not None:
            try:
                outcome = evaluate(element.required_unless, view)
            except MissingFact:
                outcome = None
            if outcome is not None and outcome.holds:
                required, why = False, "not required on the stated facts: " + "; ".join(outcome.reasons)
        if not required:
            reason = why
            minor_rule = provision.minor_rule
            if (
                minor_rule
                and provision.is_minor(victim_age)
                and element.id in minor_rule.elements_not_required
            ):
                reason = f"victim aged {victim_age} is a minor: {why}"
        rows.append(
            ElementRow(
                position=position,
                element_key=element.id,
                kind=str(element.kind),
                label=element.label,
                text=element.text,
                required=required,
                not_required_reason=reason,
            )
        )
    return rows


class ChargeService:
    """Add and list charges."""

    def __init__(self, ctx: StoreContext) -> None:
        self.ctx = ctx

    def _provision(self, offence_id: str) -> Provision:
        try:
            provision = self.ctx.law.get(offence_id)
        except NotFoundError as exc:
            raise InputError(exc.message, location="offence_id") from exc
        if provision.kind != "offence":
            raise InputError(f"{offence_id} is a {provision.kind}, not an offence", location="offence_id")
        return provision

    def add(
        self,
        case_ref: str,
        offence_id: str,
        defendant: int | str,
        victims: Sequence[int | str],
        count_number: int,
        facts: dict[str, Any] | None = None,
    ) -> ChargePublic:
        """Charge ``defendant`` with ``offence_id`` as count ``count_number`` for ``victims``."""
        facts = dict(facts or {})
        if count_number < 1:
            raise InputError(f"count number {count_number} must be 1 or more", location="count_number")
        if not victims:
            raise InputError("a charge needs at least one victim", location="victims")
        provision = self._provision(offence_id)
        with self.ctx.db.transaction() as session:
            case = repository.case_by_ref(session, case_ref)
            accused = repository.party(session, case, defendant, field="defendant")
            if accused.role != "defendant":
                raise InputError(
                    f"party {accused.id} is a {accused.role}, not a defendant", location="defendant"
                )
            victim_rows = []
            for ref in victims:
                victim = repository.party(session, case, ref, field="victims")
                if victim.role != "victim":
                    raise InputError(
                        f"party {victim.id} is a {victim.role}, not a victim", location="victims"
                    )
                victim_rows.append(victim)
            age = effective_age(facts, victim_rows)
            if age is None and provision.tier_needs_victim_age():
                raise InputError(
                    f"{provision.citation}: the penalty tier depends on the victim's age, and none is "
                    "recorded; "
                    "give facts victim_age or record the victim's age_at_offence",
                    location="facts.victim_age",
                )
            clash = session.scalar(
                select(Charge.id).where(
                    Charge.case_id == case.id,
                    Charge.count_number == count_number,
                    Charge.defendant_id == accused.id,
                )
            )
            if clash is not None:
                raise InputError(
                    f"count {count_number} against party {accused.id} already exists", location="count_number"
                )
            charge = Charge(
                case_id=case.id,
                count_number=count_number,
                offence_id=offence_id,
                defendant_id=accused.id,
                victim_age=age,
                facts=facts,
            )
            session.add(charge)
            session.flush()
            session.add_all(ChargeVictim(charge_id=charge.id, party_id=v.id) for v in victim_rows)
            for row in element_rows(provision, age, facts):
                row.charge_id = charge.id
                session.add(row)
            session.flush()
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="charge.create",
                object_type="charge",
                object_id=charge.id,
                case_id=case.id,
                detail={"offence_id": offence_id, "count": count_number},
            )
            return self._public(session, case, charge)

    def _public(self, session: Any, case: Case, charge: Charge) -> ChargePublic:
        victims = session.scalars(
            select(Party)
            .join(ChargeVictim, ChargeVictim.party_id == Party.id)
            .where(ChargeVictim.charge_id == charge.id)
            .order_by(Party.id)
        ).all()
        elements = session.scalars(
            select(ElementRow).where(ElementRow.charge_id == charge.id).order_by(ElementRow.position)
        ).all()
        defendant = session.get(Party, charge.defendant_id)
        try:
            citation = self.ctx.law.get(charge.offence_id).citation
        except NotFoundError:
            citation = charge.offence_id
        return ChargePublic(
            id=charge.id,
            case_reference=case.reference,
            count_number=charge.count_number,
            offence_id=charge.offence_id,
            citation=citation,
            defendant_id=charge.defendant_id,
            defendant=defendant.label if defendant else "?",
            victim_ids=[v.id for v in victims],
            victims=[v.label for v in victims],
            victim_age=charge.victim_age,
            facts=dict(charge.facts or {}),
            elements=[ElementPublic.model_validate(e) for e in elements],
        )

    def list(self, case_ref: str) -> builtins.list[ChargePublic]:
        with self.ctx.db.read() as session:
            case = repository.case_by_ref(session, case_ref)
            charges = session.scalars(
                select(Charge)
                .where(Charge.case_id == case.id)
                .order_by(Charge.count_number, Charge.defendant_id)
            ).all()
            return [self._public(session, case, c) for c in charges]

    def get(self, charge_id: int) -> ChargePublic:
        with self.ctx.db.read() as session:
            charge = session.get(Charge, charge_id)
            if charge is None:
                raise NotFoundError(f"unknown charge id {charge_id}", location="charge")
            return self._public(session, repository.case_by_id(session, charge.case_id), charge)
