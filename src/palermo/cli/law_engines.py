"""``palermo law elements|exposure|guidelines|restitution FACTS``: the law engines on a facts file.

Each command reads a facts file (YAML or JSON, see docs/law/facts.md), checks it against the law
library, runs one engine and prints a table plus the explanation steps — or ``--json``. Bad input
raises a FactsError naming the field (``counts[2].victim: unknown victim 'V9'``), which the root
command turns into a one-line message and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from palermo.cli.law import AsJson, LawPath, app, library_for
from palermo.cli.output import console, emit, table
from palermo.domain.counts import check_facts
from palermo.domain.elements import assess_elements
from palermo.domain.explanation import Step, render_steps
from palermo.domain.exposure import assess_exposure
from palermo.domain.facts import Matter, read_facts
from palermo.domain.guidelines import assess_guidelines
from palermo.domain.restitution import assess_restitution
from palermo.law.library import LawLibrary

FactsPath = Annotated[Path, typer.Argument(help="Facts file (YAML or JSON) describing the matter.")]


def _load(facts: Path, law_path: list[Path] | None) -> tuple[LawLibrary, Matter]:
    law = library_for(law_path)
    matter = read_facts(facts)
    check_facts(law, matter, str(facts))
    return law, matter


def _steps(title: str, steps: list[Step]) -> None:
    table(title, ["rule", "facts", "effect"], render_steps(steps))


def _months(value: int | None, life: bool = True) -> str:
    return "life" if value is None and life else str(value)


@app.command("elements")
def elements(facts: FactsPath, law_path: LawPath = None, as_json: AsJson = False) -> None:
    """Which elements of each count the facts satisfy, which are missing, which fall away."""
    law, matter = _load(facts, law_path)
    results = assess_elements(law, matter)

    def render() -> None:
        for r in results:
            verdict = "made out" if r.made_out else "NOT made out"
            rows = [
                (e.id, e.label, e.status, "; ".join(e.explanation[0].facts), e.explanation[0].effect)
                for e in r.elements
            ]
            table(
                f"Count {r.count}: {r.citation} — {r.defendant} / {r.victim}: {verdict}",
                ["element", "what must be proven", "status", "facts used", "effect"],
                rows,
            )

    emit([r.model_dump(mode="json") for r in results], as_json, render)


@app.command("exposure")
def exposure(facts: FactsPath, law_path: LawPath = None, as_json: AsJson = False) -> None:
    """Statutory minimum and maximum, felony class, supervised release, assessments and fines."""
    law, matter = _load(facts, law_path)
    results = assess_exposure(law, matter)

    def render() -> None:
        for d in results:
            rows = [
                (
                    c.count,
                    c.citation.removeprefix("18 U.S.C. "),
                    c.tier,
                    c.min_months,
                    _months(c.max_months),
                    c.felony_class or "",
                    "life" if c.supervised_release_life else _months(c.supervised_release_max_months, False),
                    c.special_assessment + c.jvta_assessment,
                    c.fine_max,
                )
                for c in d.counts
            ]
            table(
                f"Defendant {d.defendant} (months; dollars)",
                [
                    "count",
                    "offence",
                    "tier",
                    "min",
                    "max",
                    "class",
                    "sup. release max",
                    "assessments",
                    "fine max",
                ],
                rows,
            )
            for c in d.counts:
                _steps(f"Count {c.count}: why", c.explanation)
            _steps(f"Defendant {d.defendant}: totals", d.explanation)

    emit([d.model_dump(mode="json") for d in results], as_json, render)


@app.command("guidelines")
def guidelines(facts: FactsPath, law_path: LawPath = None, as_json: AsJson = False) -> None:
    """A US Sentencing Guidelines estimate (2016 Manual) per defendant."""
    law, matter = _load(facts, law_path)
    results = assess_guidelines(law, matter)

    def render() -> None:
        for g in results:
            console.print(f"[bold]Defendant {g.defendant}[/] — {g.edition}")
            table(
                None,
                ["group (victim)", "counts", "offense level", "units"],
                [(x.victim, ", ".join(map(str, x.counts)), x.offense_level, x.units) for x in g.groups],
            )
            table(
                None,
                ["combined level", "total level", "category", "table range", "guideline range"],
                [
                    (
                        g.combined_offense_level,
                        g.total_offense_level,
                        g.criminal_history_category,
                        f"{_months(g.range_min_months)}–{_months(g.range_max_months)}",
                        f"{_months(g.guideline_min_months)}–{_months(g.guideline_max_months)}",
                    )
                ],
            )
            _steps(f"Defendant {g.defendant}: steps", g.explanation)

    emit([g.model_dump(mode="json") for g in results], as_json, render)


@app.command("restitution")
def restitution(facts: FactsPath, law_path: LawPath = None, as_json: AsJson = False) -> None:
    """Mandatory restitution under 18 U.S.C. § 1593, per victim and in total."""
    law, matter = _load(facts, law_path)
    result = assess_restitution(law, matter)

    def render() -> None:
        rows = [
            (
                v.victim,
                v.losses_2259,
                v.flsa_value,
                v.wages_paid,
                v.gross_income or "",
                v.labour_measure,
                v.total,
            )
            for v in result.victims
        ]
        table(
            "Restitution (18 U.S.C. § 1593)",
            [
                "victim",
                "§ 2259 losses $",
                "FLSA value $",
                "wages paid $",
                "gross income $",
                "labour measure",
                "total $",
            ],
            rows,
        )
        for v in result.victims:
            _steps(f"Victim {v.victim}: why", v.explanation)
        _steps("Total", result.explanation)

    emit(result.model_dump(mode="json"), as_json, render)


__all__ = ["elements", "exposure", "guidelines", "restitution"]
