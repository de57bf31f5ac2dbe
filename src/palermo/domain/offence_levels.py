"""Chapter Two of the US Sentencing Guidelines for one count: §§ 2G1.1, 2G1.3, 2H4.1 (and § 2X1.1).

Edition: the Guidelines Manual of November 1, 2016, whose text is in
``shared/reference/law/ussg_2016_excerpts.txt``. The statutory index (Appendix A) sends §§ 1581–1590,
1592 and 1593A to § 2H4.1; § 1591, § 2421 and § 2422(a) to § 2G1.1 for an adult victim and § 2G1.3
for a minor; § 2422(b) and § 2423(a) to § 2G1.3. § 1594 is not indexed, so attempts and conspiracies
go through § 2X1.1 with the substantive guideline. § 2421A postdates the 2016 Manual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from palermo.domain.conditions import MissingFact
from palermo.domain.counts import LawSource, select_tier
from palermo.domain.explanation import Step
from palermo.domain.facts import Count, Matter
from palermo.errors import DomainError, FactsError

H4 = {
    "us-18-usc-1581",
    "us-18-usc-1583",
    "us-18-usc-1584",
    "us-18-usc-1589",
    "us-18-usc-1590",
    "us-18-usc-1592",
}
G1_BY_AGE = {"us-18-usc-1591", "us-18-usc-2421", "us-18-usc-2422-a"}
G1_MINOR = {"us-18-usc-2422-b", "us-18-usc-2423-a"}
INCHOATE = {"us-18-usc-1594-a": "attempt", "us-18-usc-1594-b": "conspiracy", "us-18-usc-1594-c": "conspiracy"}
# § 2G1.1 app. note 2: "coercion" includes any conduct that negates the voluntariness of the victim.
FRAUD_OR_COERCION = {
    "fraud",
    "deception",
    "coercion",
    "other_coercion",
    "use_of_force",
    "threat_of_force",
    "physical_restraint",
    "threat_of_physical_restraint",
    "serious_harm",
    "threat_of_serious_harm",
    "scheme_plan_or_pattern",
    "abuse_of_legal_process",
}


@dataclass
class CountLevel:
    """The Chapter Two offence level of one count, built step by step."""

    count: int
    victim: str
    guideline: str
    level: int = 0
    steps: list[Step] = field(default_factory=list)

    def add(self, levels: int, rule: str, facts: list[str], verified: bool = True) -> None:
        """Apply an adjustment and record it."""
        self.level += levels
        sign = f"+{levels}" if levels >= 0 else str(levels)
        self.steps.append(Step(rule=rule, facts=facts, effect=f"{sign} → {self.level}", verified=verified))


def substantive(count: Count) -> str:
    """The offence whose guideline applies: the underlying one for §§ 1593A and 1594(a)/(b)."""
    if count.offence == "us-18-usc-1594-c":
        return "us-18-usc-1591"
    return count.underlying or count.offence


def _age(matter: Matter, count: Count, why: str) -> int:
    age = matter.victim(count.victim).age
    if age is None:
        index = [v.id for v in matter.victims].index(count.victim)
        raise FactsError(
            f"age at the offence is needed to {why} for count {count.number}",
            location=f"victims[{index}].age",
        )
    return age


def _tier_1591(law: LawSource, matter: Matter, count: Count) -> str:
    shadow = count.model_copy(update={"offence": "us-18-usc-1591", "underlying": None})
    try:
        tier = select_tier(law, matter, shadow)
    except MissingFact:
        tier = None
    return "" if tier is None else tier.penalty.id


def _g1_1(law: LawSource, matter: Matter, count: Count, offence: str, out: CountLevel) -> None:
    tier = _tier_1591(law, matter, count) if offence == "us-18-usc-1591" else ""
    if tier.startswith("b1"):
        out.add(
            34,
            "USSG §2G1.1(a)(1)",
            [f"offence of conviction 18 U.S.C. § 1591(b)(1) ({tier})"],
            verified=count.offence == offence,
        )
        return
    out.add(14, "USSG §2G1.1(a)(2)", [f"offence {offence}"])
    used = sorted(FRAUD_OR_COERCION & set(count.means))
    if used:
        out.add(
            4,
            "USSG §2G1.1(b)(1): (a)(2) applies and the offense involved fraud or coercion",
            [f"means {', '.join(used)}"],
        )


def _g1_3(law: LawSource, matter: Matter, count: Count, offence: str, out: CountLevel) -> None:
    tier = _tier_1591(law, matter, count) if offence == "us-18-usc-1591" else ""
    exact = count.offence == offence  # a § 2X1.1 or § 1593A count borrows the substantive level
    if tier.startswith("b1"):
        base, rule = 34, "USSG §2G1.3(a)(1)"
    elif tier == "b2":
        base, rule = 30, "USSG §2G1.3(a)(2)"
    elif offence in G1_MINOR:
        base, rule = 28, "USSG §2G1.3(a)(3)"
    else:
        base, rule = 24, "USSG §2G1.3(a)(4)"
    out.add(
        base, rule, [f"offence {offence}" + (f" tier {tier}" if tier else "")], verified=exact or base == 24
    )
    flags = set(count.flags)
    low_base = base in (28, 24)
    if "custody_care_or_supervision" in flags:
        out.add(
            2,
            "USSG §2G1.3(b)(1): parent, relative, guardian, or custody, care or supervisory control",
            ["custody_care_or_supervision"],
        )
    if flags & {"misrepresented_identity", "undue_influence"}:
        out.add(
            2,
            "USSG §2G1.3(b)(2): misrepresentation of identity or undue influence",
            sorted(flags & {"misrepresented_identity", "undue_influence"}),
        )
    if "computer_used" in flags:
        out.add(2, "USSG §2G1.3(b)(3): use of a computer or interactive computer service", ["computer_used"])
    if "sex_act" in flags:
        out.add(2, "USSG §2G1.3(b)(4)(A): commission of a sex act or sexual contact", ["sex_act"])
    elif low_base and "commercial_sex_act" in flags:
        out.add(
            2,
            "USSG §2G1.3(b)(4)(B): (a)(3) or (a)(4) applies and a commercial sex act",
            ["commercial_sex_act"],
        )
    age = matter.victim(count.victim).age
    if low_base and age is not None and age < 12:
        out.add(
            8,
            "USSG §2G1.3(b)(5): (a)(3) or (a)(4) applies and the minor had not attained 12",
            [f"victim age {age}"],
        )


def _h4_1(count: Count, offence: str, out: CountLevel) -> None:
    if offence == "us-18-usc-1592":
        rule = "USSG §2H4.1(a)(2)(A)" if count.offence == offence else "USSG §2H4.1(a)(2)(B)"
        out.add(18, rule, [f"offence {count.offence}" + (f" based on {offence}" if count.underlying else "")])
    else:
        out.add(22, "USSG §2H4.1(a)(1)", [f"offence {offence}"])
    flags = set(count.flags)
    if "permanent_or_life_threatening_injury" in flags:
        out.add(4, "USSG §2H4.1(b)(1)(A): permanent or life-threatening bodily injury", ["injury"])
    elif "serious_bodily_injury" in flags:
        out.add(2, "USSG §2H4.1(b)(1)(B): serious bodily injury", ["serious_bodily_injury"])
    if "weapon_used" in flags:
        out.add(4, "USSG §2H4.1(b)(2)(A): a dangerous weapon was used", ["weapon_used"])
    elif "weapon_brandished_or_threatened" in flags:
        out.add(
            2,
            "USSG §2H4.1(b)(2)(B): dangerous weapon brandished or use threatened",
            ["weapon_brandished_or_threatened"],
        )
    days = count.duration_held_days
    if days is not None:
        if days > 365:
            out.add(3, "USSG §2H4.1(b)(3)(A): held more than one year", [f"{days} days"])
        elif days >= 180:
            out.add(2, "USSG §2H4.1(b)(3)(B): held between 180 days and one year", [f"{days} days"])
        elif days > 30:
            out.add(
                1, "USSG §2H4.1(b)(3)(C): held more than 30 days but less than 180 days", [f"{days} days"]
            )


def chapter_two(law: LawSource, matter: Matter, count: Count) -> CountLevel:
    """The Chapter Two level of one count, with § 2X1.1 for attempts and conspiracies."""
    offence = substantive(count)
    if offence in H4:
        out = CountLevel(count.number, count.victim, "§2H4.1")
        _h4_1(count, offence, out)
    elif offence in G1_MINOR or offence in G1_BY_AGE:
        minor = offence in G1_MINOR or _age(matter, count, "choose between §2G1.1 and §2G1.3") < 18
        out = CountLevel(count.number, count.victim, "§2G1.3" if minor else "§2G1.1")
        (_g1_3 if minor else _g1_1)(law, matter, count, offence, out)
    else:
        raise DomainError(
            f"count {count.number}: {offence} is not covered by the 2016 Guidelines Manual "
            "(§ 2421A was enacted in 2018)"
        )
    kind = INCHOATE.get(count.offence)
    if kind and "completed_all_acts" not in count.flags:
        out.add(
            -3,
            f"USSG §2X1.1(b)({1 if kind == 'attempt' else 2}): {kind} not completed",
            [f"offence {count.offence}", "completed_all_acts not set"],
        )
    elif kind:
        out.steps.append(
            Step(rule=f"USSG §2X1.1(b): {kind}", facts=["completed_all_acts"], effect="no decrease")
        )
    return out


__all__ = ["CountLevel", "chapter_two", "substantive"]
