"""Checks that span files: vocabulary terms used by provisions, references, duplicate ids.

Pydantic validates one file against its shape; it cannot know that ``decepiton`` is not a
vocabulary term or that ``references: [gb-msa-2015-s9]`` names nothing. These checks run after
every file has loaded, so ``palermo law check`` reports them all at once, each located on its line.
"""

from __future__ import annotations

from collections.abc import Iterator

from palermo.law.checklist import Checklist
from palermo.law.loader import LawProblem, Loc, Parsed, field_path, line_of
from palermo.law.model import Category, Condition, ElementKind, Provision, Vocabulary

_CONDITION_FIELDS: dict[str, Category] = {
    "acts_any": Category.ACT,
    "means_any": Category.MEANS,
    "purposes_any": Category.PURPOSE,
}
_ELEMENT_CONDITIONS = ("required_unless", "reckless_suffices_when", "deemed_when", "satisfied_when")
_ID_LISTS = ("references", "same_penalty_as", "applies_to")
_ELEMENT_CATEGORY: dict[ElementKind, Category] = {
    ElementKind.ACT: Category.ACT,
    ElementKind.MEANS: Category.MEANS,
    ElementKind.PURPOSE: Category.PURPOSE,
}


def _conditions(provision: Provision) -> Iterator[tuple[Loc, Condition]]:
    """Every condition in a provision with its location, nested ones included."""
    roots: list[tuple[Loc, Condition | None]] = []
    for i, element in enumerate(provision.elements):
        for name in _ELEMENT_CONDITIONS:
            roots.append((("elements", i, name), getattr(element, name, None)))
    roots += [(("penalties", i, "when"), p.when) for i, p in enumerate(provision.penalties)]
    roots += [(("aggravators", i, "when"), a.when) for i, a in enumerate(provision.aggravators)]
    stack = [(loc, c) for loc, c in roots if c is not None]
    while stack:
        loc, cond = stack.pop()
        yield loc, cond
        for i, sub in enumerate(cond.any_of or []):
            stack.append(((*loc, "any_of", i), sub))
        if cond.not_ is not None:
            stack.append(((*loc, "not"), cond.not_))


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _term_problem(vocab: Vocabulary, term: str, want: Category | None) -> str | None:
    found = vocab.get(term)
    if found is None:
        kind = f"{want.value} " if want else ""
        return f"unknown {kind}term {term!r}; known: see `palermo law vocabulary`"
    if want is not None and found.category != want:
        return f"term {term!r} is {_article(found.category.value)}, not {_article(want.value)}"
    return None


def vocabulary_problems(provision: Provision, parsed: Parsed, vocab: Vocabulary) -> list[LawProblem]:
    """Element alternatives and condition terms must be vocabulary terms of the right category."""
    problems: list[LawProblem] = []

    def report(loc: Loc, text: str) -> None:
        problems.append(LawProblem(parsed.path, line_of(parsed.node, loc), field_path(loc), text))

    for i, element in enumerate(provision.elements):
        want = _ELEMENT_CATEGORY.get(element.kind)
        for j, term in enumerate(element.alternatives):
            text = _term_problem(vocab, term, want)
            if text:
                report(("elements", i, "alternatives", j), text)
    for loc, cond in _conditions(provision):
        for name, category in _CONDITION_FIELDS.items():
            for j, term in enumerate(getattr(cond, name) or []):
                text = _term_problem(vocab, term, category)
                if text:
                    report((*loc, name, j), text)
    return problems


def checklist_problems(checklist: Checklist, parsed: Parsed, vocab: Vocabulary) -> list[LawProblem]:
    """Model conducts in the gap checklist must use vocabulary terms of the right category."""
    problems: list[LawProblem] = []
    for i, item in enumerate(checklist.items):
        for j, pattern in enumerate(item.patterns):
            for name, category in (("acts", Category.ACT), ("means", Category.MEANS),
                                   ("purposes", Category.PURPOSE)):
                for k, term in enumerate(getattr(pattern, name)):
                    text = _term_problem(vocab, term, category)
                    if text:
                        loc: Loc = ("items", i, "patterns", j, name, k)
                        line = line_of(parsed.node, loc)
                        problems.append(LawProblem(parsed.path, line, field_path(loc), text))
    return problems


def reference_problems(provision: Provision, parsed: Parsed, known: set[str]) -> list[LawProblem]:
    """``references``, ``same_penalty_as`` and ``applies_to`` must name provisions in the library."""
    return [
        LawProblem(
            parsed.path,
            line_of(parsed.node, (name, i)),
            f"{name}[{i}]",
            f"unknown provision {ref!r}",
        )
        for name in _ID_LISTS
        for i, ref in enumerate(getattr(provision, name, None) or [])
        if ref not in known
    ]


def duplicate_problem(provision: Provision, parsed: Parsed, first: Parsed) -> LawProblem:
    """The second file defining an id is the one reported, pointing at the first."""
    return LawProblem(
        parsed.path,
        line_of(parsed.node, ("id",)),
        "id",
        f"duplicate provision id {provision.id!r} (first defined in {first.path})",
    )


__all__ = ["checklist_problems", "duplicate_problem", "reference_problems", "vocabulary_problems"]
