"""``palermo scenario …``: write a synthetic trafficking case with ground truth to a folder.

The files are what an investigator would receive (bank exports, a carrier's CDR, seized-phone
extractions, scraped ads), so the command is how people try ingest and analysis without real data,
and how the benchmarks make their 1 M-row inputs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from palermo.cli.output import console, emit, table
from palermo.scenario import generate

app = typer.Typer(name="scenario", help="Synthetic trafficking scenarios with ground truth.",
                  no_args_is_help=True)


@app.command("generate")
def generate_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the source files and truth.json into.")],
    seed: Annotated[int, typer.Option("--seed", help="Same seed and scale give byte-identical files.")] = 7,
    scale: Annotated[float, typer.Option(
        "--scale", help="1: ~500 bank lines, 500 calls, 50 ads of background; 2000: 1 M + 1 M + 100 k.",
    )] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Generate a scenario and write its files, printing each file with its row count."""
    started = time.perf_counter()
    scenario = generate(seed=seed, scale=scale)
    files = scenario.write(out_dir)
    elapsed = time.perf_counter() - started
    truth = scenario.truth
    summary = {**files.to_dict(), "seed": seed, "scale": scale, "seconds": round(elapsed, 2),
               "ring_members": len(truth.ring_members), "victims": len(truth.victims),
               "minors": sum(1 for v in truth.victims if v["minor"]), "people": len(truth.people)}

    def render() -> None:
        table(f"Scenario seed {seed}, scale {scale:g} → {out_dir}", ["file", "adapter", "rows"],
              [[str(s.path.relative_to(files.root)), s.adapter, f"{s.rows:,}"] for s in files.sources])
        console.print(f"{summary['people']:,} people, {summary['ring_members']} ring members, "
                      f"{summary['victims']} victims ({summary['minors']} minors); ground truth in "
                      f"{files.truth} ({elapsed:.1f} s)")

    emit(summary, as_json, render)
