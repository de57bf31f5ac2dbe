"""``palermo demo``: a fresh workspace with a realistic synthetic case, served on 127.0.0.1:8000.

The first command in the README. Everything it shows is computed, not canned: it generates a
scenario (``palermo.scenario``: a trafficking ring hidden in an innocent population, synthetic
people only), builds the case from it (parties by pseudonym, charges, exhibits with hashes and
custody), imports every exhibit through the ingest adapters, runs the analysis (which proposes
leads for review), creates a ``demo`` account with a one-time random password, prints the URL and
the login, and serves. The master key is created next to (never inside) the workspace folder.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from palermo.cli.output import console, err_console
from palermo.cli.serve import serve_workspace
from palermo.cli.user import one_time_password
from palermo.errors import InputError
from palermo.workspace import Workspace

DEMO_USER = "demo"


@dataclass
class DemoCase:
    """What ``build_demo`` made: where, which case, the one-time login, and what could not be done."""

    workspace: Workspace
    case_ref: str
    username: str
    password: str
    notes: list[str] = field(default_factory=list)


def fresh_folder(path: Path | None) -> Path:
    """The demo's workspace folder: a new temporary one, or ``path`` if it does not exist yet."""
    if path is None:
        return Path(tempfile.mkdtemp(prefix="palermo-demo-")) / "workspace"
    path = path.expanduser().resolve()
    if path.exists() and any(path.iterdir()):
        raise InputError(f"{path} is not empty; the demo needs a fresh folder", location="--path")
    return path


def _case_from_scenario(ws: Workspace, scenario: Any, files: Any, notes: list[str]) -> str:
    """The case built by ``palermo.scenario.demo_case``; if that is missing, a case holding the exhibits."""
    try:
        from palermo.scenario.demo_case import build_demo_case
    except ImportError:
        notes.append("palermo.scenario.demo_case is not in this build: the case has exhibits but no charges.")
        ref = f"DEMO-{scenario.seed}"
        ws.cases.create(ref, "Demo: synthetic trafficking ring (no charges)", "us")
        ws.evidence.add_many(
            ref, [s.path for s in files.sources], source="synthetic scenario", acquired_by="demo"
        )
        return ref
    return str(build_demo_case(ws, scenario, files))


def _ingest_and_analyse(ws: Workspace, case_ref: str, files: Any, notes: list[str]) -> None:
    """Import every exhibit through its adapter, then run the analysis (which proposes leads)."""
    by_name = {s.path.name: s for s in files.sources}
    analytics = ws.analytics
    try:
        jobs = [
            (item.id, source.adapter, source.options)
            for item in ws.evidence.list(case_ref)
            if (source := by_name.get(item.original_filename)) is not None
        ]
        analytics.ingest_many(case_ref, jobs)
        if hasattr(analytics, "analyze"):
            analytics.analyze(case_ref)
        else:
            notes.append("the analysis (palermo.analytics) is not in this build: no network or leads yet.")
    finally:
        analytics.close()


def build_demo(path: Path | None = None, *, seed: int = 7, scale: float = 1.0) -> DemoCase:
    """Create the demo workspace and case (see the module docstring); the caller closes the workspace."""
    from palermo.scenario import generate

    folder = fresh_folder(path)
    key_file = Path(os.environ.get("PALERMO_MASTER_KEY_FILE") or folder.parent / f"{folder.name}-master.key")
    # synthetic people only: an export may leave unaddressed (marked as such), as in a training room
    ws = Workspace.init(folder, master_key_file=key_file, actor=DEMO_USER, require_export_recipient=False)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="palermo-scenario-") as tmp:
        scenario = generate(seed=seed, scale=scale)
        files = scenario.write(Path(tmp) / f"{folder.name}-{seed}")
        case_ref = _case_from_scenario(ws, scenario, files, notes)
        _ingest_and_analyse(ws, case_ref, files, notes)
    password = one_time_password()
    ws.users.add(DEMO_USER, password, "prosecutor")
    ws.users.add_member(case_ref, DEMO_USER)
    return DemoCase(ws, case_ref, DEMO_USER, password, notes)


def demo(
    path: Annotated[
        Path | None, typer.Option("--path", help="New folder for the workspace (default: a temp one).")
    ] = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo and exit.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Scenario seed (same seed, same case).")] = 7,
    scale: Annotated[
        float, typer.Option("--scale", min=0.1, help="Scenario size (1 = a few hundred rows per source).")
    ] = 1.0,
) -> None:
    """Create a fresh workspace with a generated case, then serve it on 127.0.0.1."""
    with console.status("Generating the scenario, building the case, importing and analysing…"):
        made = build_demo(path, seed=seed, scale=scale)
    try:
        for note in made.notes:
            err_console.print(f"[yellow]note:[/] {note}")
        console.print(f"Workspace: {made.workspace.path}")
        console.print(f"Case:      {made.case_ref}")
        console.print(f"Open:      http://127.0.0.1:{port}/cases/{made.case_ref}")
        console.print(
            f"Login:     {made.username} / [bold]{made.password}[/]  (one-time password, shown only now)"
        )
        if not no_serve:
            serve_workspace(made.workspace, "127.0.0.1", port)
    finally:
        made.workspace.close()
