"""The explanation every engine result carries: the rules that fired and the facts that fired them.

A court, defence counsel or a supervisor may ask *why* the estimate says 180 months or $41,000;
the answer must be in the result itself, in order, citing the law and naming the facts used.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Step(BaseModel):
    """One line of an explanation: the rule (with its citation), the facts it used, its effect."""

    model_config = ConfigDict(frozen=True)

    rule: str
    facts: list[str]
    effect: str
    verified: bool = True  # False when the rule rests on a figure not checked against the text


def render_steps(steps: list[Step]) -> list[tuple[str, str, str]]:
    """Rows (rule, facts, effect) for a table, marking unverified rules."""
    rows = []
    for step in steps:
        mark = "" if step.verified else " [unverified]"
        rows.append((step.rule + mark, "; ".join(step.facts), step.effect))
    return rows


__all__ = ["Step", "render_steps"]
