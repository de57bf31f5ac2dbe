"""``palermo law …``: browse, validate and reason over the law library.

Thin by design: every command loads the library (packaged, plus ``--law-path`` folders an office
supplies), calls a loader or domain engine, and renders a table or ``--json``. Part B's engine
commands (exposure, guidelines, restitution, elements) register on the same ``app`` from
``cli/law_engines.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from palermo.cli.output import console, emit, table
from palermo.domain.conduct import parse_conduct
from palermo.domain.dual_criminality import check_dual_criminality
from palermo.domain.gaps import analyse_gaps
from palermo.errors import FactsError
from palermo.law.library import LawLibrary, default_library
from palermo.law.loader import provision_schema, vocabulary_schema
from palermo.law.model import Category, Provision

app = typer.Typer(
    name="law",
    help="Trafficking law as data: statutes, vocabulary, dual criminality, gap analysis.",
    no_args_is_help=True,
)

LawPath = Annotated[
    list[Path] | None,
    typer.Option("--law-path", help="Extra jurisdiction folder(s) of provision YAML (e.g. a draft bill)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def library_for(law_path: list[Path] | None) -> LawLibrary:
    """The packaged library, or a fresh one with the user's folders validated alongside it."""
    if law_path:
        return LawLibrary.load(extra_paths=law_path)
    return default_library()


def _max_text(provision: Provision) -> str:
    tiers = []
    for p in provision.penalties:
        if p.life:
            tiers.append("life")
        elif p.max_months is not None:
            tiers.append(f"{p.max_months / 12:g} y")
    return ", ".join(dict.fromkeys(tiers))


@app.command("list")
def list_provisions(
    jurisdiction: Annotated[str | None, typer.Option("--jurisdiction", "-j", help="us, gb, intl…")] = None,
    kind: Annotated[str | None, typer.Option(help="offence | consequence | definition | instrument")] = None,
    law_path: LawPath = None,
    as_json: AsJson = False,
) -> None:
    """List provisions, optionally of one jurisdiction or kind."""
    items = library_for(law_path).provisions(jurisdiction, kind)
    emit(
        [{"id": p.id, "jurisdiction": p.jurisdiction, "kind": p.kind, "citation": p.citation,
          "title": p.title, "verified": p.verified} for p in items],
        as_json,
        lambda: table(
            f"{len(items)} provisions",
            ["id", "jur.", "kind", "citation", "title", "max", "verified"],
            [(p.id, p.jurisdiction, p.kind, p.citation, p.title, _max_text(p), "yes" if p.verified else "no")
             for p in items],
        ),
    )


@app.command("show")
def show(provision_id: str, law_path: LawPath = None, as_json: AsJson = False) -> None:
    """Show one provision: elements, minor rule, penalties, remedies and notes."""
    p = library_for(law_path).get(provision_id)

    def render() -> None:
        console.print(f"[bold]{p.citation}[/] — {p.title}  ({p.kind}, {p.jurisdiction})", highlight=False)
        console.print(f"source: {p.source}   in force from {p.in_force.start}"
                      f"{' to ' + str(p.in_force.end) if p.in_force.end else ''}   "
                      f"verified: {'yes' if p.verified else 'NO'}", highlight=False)
        if p.elements:
            table("elements", ["id", "kind", "label", "alternatives"],
                  [(e.id, e.kind.value, e.label, ", ".join(e.alternatives)) for e in p.elements])
        if p.minor_rule:
            console.print(f"minor (< {p.minor_rule.age_below}): not required — "
                          f"{', '.join(p.minor_rule.elements_not_required) or 'nothing'} "
                          f"({p.minor_rule.citation})", highlight=False)
        if p.penalties:
            table("penalties", ["id", "label", "min (months)", "max", "verified"],
                  [(t.id, t.label, t.min_months, "life" if t.life else t.max_months,
                    "yes" if t.verified else "no") for t in p.penalties])
        for name, remedy in (("restitution", p.restitution), ("forfeiture", p.forfeiture)):
            if remedy:
                console.print(f"{name}: {remedy.summary} ({remedy.citation})", highlight=False)
        if p.references:
            console.print(f"references: {', '.join(p.references)}", highlight=False)
        console.print(f"notes: {p.notes}", highlight=False)

    emit(p, as_json, render)


@app.command("check")
def check(law_path: LawPath = None, as_json: AsJson = False) -> None:
    """Validate every law file; problems print as file:line: field: problem (exit 2)."""
    report = LawLibrary.check(extra_paths=law_path or ())
    if as_json:
        data = {"files": report.files, "provisions": report.provisions,
                "problems": [p.to_dict() for p in report.problems]}
        emit(data, True, lambda: None)
    elif report.ok:
        text = f"ok: {report.files} files, {report.provisions} provisions, no problems"
        console.print(text, highlight=False)
    else:
        # Plain echo, not Rich: one problem per line, never wrapped, so editors can jump to it.
        for problem in report.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"{len(report.problems)} problem(s) in {report.files} files", err=True)
    if not report.ok:
        # SystemExit, not typer.Exit: in main.run's non-standalone mode click returns a typer.Exit
        # code instead of raising it, which would turn a failed check into exit 0.
        raise SystemExit(2)


@app.command("vocabulary")
def vocabulary(
    category: Annotated[Category | None, typer.Option(help="act | means | purpose")] = None,
    law_path: LawPath = None,
    as_json: AsJson = False,
) -> None:
    """List the controlled vocabulary (protocol terms and national extensions)."""
    vocab = library_for(law_path).vocabulary
    terms = [t for t in vocab.terms if category is None or t.category == category]
    emit(
        terms,
        as_json,
        lambda: table(
            f"{len(terms)} terms (vocabulary {vocab.version})",
            ["id", "category", "label", "protocol", "maps to", "jurisdictions"],
            [(t.id, t.category.value, t.label, "yes" if t.protocol else "", ", ".join(t.maps_to),
              ", ".join(t.jurisdictions)) for t in terms],
        ),
    )


@app.command("schema")
def schema(
    what: Annotated[str, typer.Argument(help="provision | vocabulary")] = "provision",
) -> None:
    """Print the JSON Schema of provision files (or of vocabulary.yaml)."""
    if what not in ("provision", "vocabulary"):
        raise typer.BadParameter("choose provision or vocabulary", param_hint="WHAT")
    text = provision_schema() if what == "provision" else vocabulary_schema()
    typer.echo(text, nl=False)


def _read_conduct(path: Path) -> object:
    """Read a conduct file (YAML or JSON — JSON is YAML); a bad file is the user's input error."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FactsError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise FactsError(f"{path}{line}: malformed YAML/JSON: {getattr(exc, 'problem', exc)}") from exc


@app.command("dual-criminality")
def dual_criminality(
    conduct_file: Annotated[Path | None, typer.Argument(help="YAML/JSON conduct: acts, means…")] = None,
    from_: Annotated[str, typer.Option("--from", help="requesting jurisdiction, e.g. us")] = "",
    to: Annotated[str, typer.Option("--to", help="requested jurisdiction, e.g. gb")] = "",
    act: Annotated[list[str] | None, typer.Option("--act", help="act term (repeatable)")] = None,
    means: Annotated[list[str] | None, typer.Option("--means", help="means term (repeatable)")] = None,
    purpose: Annotated[list[str] | None, typer.Option("--purpose", help="purpose term (repeatable)")] = None,
    victim_age: Annotated[int | None, typer.Option(help="victim's age at the offence")] = None,
    flag: Annotated[list[str] | None, typer.Option("--flag", help="condition flag (repeatable)")] = None,
    threshold_months: Annotated[int | None, typer.Option(help="minimum maximum penalty (default 12)")] = None,
    law_path: LawPath = None,
    as_json: AsJson = False,
) -> None:
    """Is the conduct punishable in both states by at least the extradition threshold?"""
    if not from_ or not to:
        raise typer.BadParameter("give both --from and --to jurisdictions", param_hint="--from/--to")
    library = library_for(law_path)
    data: dict[str, object] = {}
    source = "options"
    if conduct_file is not None:
        loaded = _read_conduct(conduct_file)
        if not isinstance(loaded, dict):
            raise FactsError(f"{conduct_file}: expected a mapping with acts, means, purposes…")
        data, source = dict(loaded), str(conduct_file)
    for key, extra in (("acts", act), ("means", means), ("purposes", purpose), ("flags", flag)):
        if extra:
            data[key] = [*list_of(data.get(key)), *extra]
    if victim_age is not None:
        data["victim_age"] = victim_age
    conduct = parse_conduct(data, library.vocabulary, source)
    result = check_dual_criminality(library, conduct, from_, to, threshold_months)

    def render() -> None:
        colour = {"satisfied": "green", "not_satisfied": "red"}.get(result.verdict, "yellow")
        console.print(f"dual criminality {from_} → {to}: [bold {colour}]{result.verdict}[/]")
        for side in (result.requesting, result.requested):
            rows = []
            for m in side.offences:
                failed = [c.element for c in m.elements if c.status in ("not_satisfied", "cannot_tell")]
                shown = m.status != "not_satisfied" and m.tier is not None
                rows.append((m.provision, m.status, ", ".join(failed), m.max_text if shown else "",
                             m.tier_citation if shown else "", "yes" if m.penalty_verified else "no"))
            table(f"{side.jurisdiction}: {side.status}",
                  ["offence", "status", "failed elements", "maximum", "tier", "penalty verified"], rows)
        for reason in result.reasons:
            console.print(reason, highlight=False, markup=False, soft_wrap=True)
        console.print(f"cited: {', '.join(result.cited)}", highlight=False, soft_wrap=True)

    emit(result, as_json, render)


def list_of(value: object) -> list[str]:
    """A conduct field as a list of strings (a single string becomes a one-item list)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise FactsError(f"expected a list of terms, found {type(value).__name__}")


@app.command("gaps")
def gaps(
    jurisdiction: Annotated[str, typer.Option("--jurisdiction", "-j", help="jurisdiction code to analyse")],
    law_path: LawPath = None,
    as_json: AsJson = False,
) -> None:
    """Compare a jurisdiction's law (or a draft bill via --law-path) with the Protocol and TVPA checklist."""
    report = analyse_gaps(library_for(law_path), jurisdiction)

    def render() -> None:
        marks = {"met": "[green]met[/]", "not_met": "[red]not met[/]",
                 "cannot_tell": "[yellow]cannot tell[/]"}
        title = f"gap analysis — {jurisdiction} (checklist {report.checklist_version})"
        t = Table(title=title, show_lines=True)
        for col in ("item", "status", "requirement", "reason"):
            t.add_column(col)
        for f in report.findings:
            reason = f.reason + "".join(f"\n⚠ {c}" for c in f.caveats)
            t.add_row(f.item, marks[f.status], f.title, escape(reason))
        console.print(t)
        counts = report.counts()
        summary = f"{counts['met']} met, {counts['not_met']} not met, {counts['cannot_tell']} cannot tell"
        console.print(summary, highlight=False)

    emit(report, as_json, render)
