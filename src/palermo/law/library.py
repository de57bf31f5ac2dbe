"""The law library: the vocabulary plus every provision, validated as a whole.

Layout of a law root (the packaged one is this package's folder)::

    vocabulary.yaml
    statutes/<jurisdiction>/<provision>.yaml
    checklists/*.yaml        gap-analysis checklists, validated by ``check`` too

``extra_paths`` are folders an office supplies (a draft bill, a jurisdiction we do not ship): their
``*.yaml`` files, directly or one folder down, are provisions validated exactly like ours; an
optional ``vocabulary.yaml`` in such a folder adds national terms, which must ``maps_to`` protocol
terms so dual criminality and gap analysis can still reason about them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from palermo.errors import NotFoundError
from palermo.law.checklist import Checklist
from palermo.law.consistency import (
    checklist_problems,
    duplicate_problem,
    reference_problems,
    vocabulary_problems,
)
from palermo.law.loader import (
    LawLibraryInvalid,
    LawProblem,
    Parsed,
    line_of,
    load_provision,
    load_vocabulary,
    load_vocabulary_extension,
    parse,
    validate,
)
from palermo.law.model import Provision, Vocabulary

PACKAGED_ROOT = Path(__file__).resolve().parent
VOCABULARY_FILE = "vocabulary.yaml"


def provision_files(folder: Path) -> list[Path]:
    """Provision files in a jurisdiction folder, or in the jurisdiction folders below it."""
    direct = [p for p in folder.glob("*.yaml") if p.name != VOCABULARY_FILE]
    nested = [p for p in folder.glob("*/*.yaml") if p.name != VOCABULARY_FILE]
    return sorted(direct + nested)


@dataclass(frozen=True)
class CheckReport:
    """What ``palermo law check`` found: how many files were read and every problem."""

    files: int
    provisions: int
    problems: list[LawProblem]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


class LawLibrary:
    """The vocabulary and all provisions, with lookups the engines and the CLI share."""

    def __init__(self, vocabulary: Vocabulary, provisions: Sequence[Provision], sources: dict[str, Path]):
        self.vocabulary = vocabulary
        self._provisions = {p.id: p for p in provisions}
        self.sources = sources

    @classmethod
    def load(cls, path: Path | None = None, *, extra_paths: Sequence[Path] = ()) -> LawLibrary:
        """Load and validate a law root (default: the packaged data) plus extra folders.

        Raises :class:`~palermo.law.loader.LawLibraryInvalid` (a ``LawDataError``) listing every
        problem found, each as ``path:line: field: problem``.
        """
        library, report = cls._collect(path, extra_paths)
        if report.problems or library is None:
            raise LawLibraryInvalid(report.problems)
        return library

    @classmethod
    def check(cls, path: Path | None = None, *, extra_paths: Sequence[Path] = ()) -> CheckReport:
        """Validate everything and report all problems instead of stopping at the first."""
        return cls._collect(path, extra_paths)[1]

    @classmethod
    def _collect(
        cls, path: Path | None, extra_paths: Sequence[Path]
    ) -> tuple[LawLibrary | None, CheckReport]:
        root = path or PACKAGED_ROOT
        problems: list[LawProblem] = []
        files = 1
        vocabulary: Vocabulary | None = None
        try:
            vocabulary, _ = load_vocabulary(root / VOCABULARY_FILE)
        except LawLibraryInvalid as exc:
            problems += exc.problems
        folders = [root / "statutes"] if (root / "statutes").is_dir() else []
        for extra in extra_paths:
            if not extra.is_dir():
                problems.append(LawProblem(extra, 1, "", "not a folder of provision YAML files"))
                continue
            folders.append(extra)
            if (extra / VOCABULARY_FILE).is_file() and vocabulary is not None:
                files += 1
                vocabulary = _extend(vocabulary, extra / VOCABULARY_FILE, problems)
        loaded: list[tuple[Provision, Parsed]] = []
        for file in (f for folder in folders for f in provision_files(folder)):
            files += 1
            try:
                loaded.append(load_provision(file))
            except LawLibraryInvalid as exc:
                problems += exc.problems
        first: dict[str, Parsed] = {}
        unique: list[tuple[Provision, Parsed]] = []
        for provision, parsed in loaded:
            if provision.id in first:
                problems.append(duplicate_problem(provision, parsed, first[provision.id]))
            else:
                first[provision.id] = parsed
                unique.append((provision, parsed))
        for provision, parsed in unique:
            if vocabulary is not None:
                problems += vocabulary_problems(provision, parsed, vocabulary)
            problems += reference_problems(provision, parsed, set(first))
        for path in sorted((root / "checklists").glob("*.yaml")):
            files += 1
            try:
                parsed_list = parse(path)
                checklist = validate(parsed_list, Checklist)
                if vocabulary is not None:
                    problems += checklist_problems(checklist, parsed_list, vocabulary)
            except LawLibraryInvalid as exc:
                problems += exc.problems
        report = CheckReport(files, len(unique), problems)
        if vocabulary is None:
            return None, report
        sources = {p.id: parsed.path for p, parsed in unique}
        return cls(vocabulary, [p for p, _ in unique], sources), report

    def get(self, provision_id: str) -> Provision:
        """The provision with this id; a typo gets the closest ids as suggestions."""
        found = self._provisions.get(provision_id)
        if found is None:
            close = difflib.get_close_matches(provision_id, list(self._provisions), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see `palermo law list`"
            raise NotFoundError(f"no provision {provision_id!r} in the law library{hint}")
        return found

    def provisions(self, jurisdiction: str | None = None, kind: str | None = None) -> list[Provision]:
        """Provisions sorted by id, optionally of one jurisdiction and/or kind."""
        return [
            p
            for _, p in sorted(self._provisions.items())
            if (jurisdiction is None or p.jurisdiction == jurisdiction) and (kind is None or p.kind == kind)
        ]

    def jurisdictions(self) -> list[str]:
        """Jurisdiction codes present, sorted."""
        return sorted({p.jurisdiction for p in self._provisions.values()})

    def offences(self, jurisdiction: str | None = None) -> list[Provision]:
        """The offences (kind ``offence``), optionally of one jurisdiction."""
        return self.provisions(jurisdiction, kind="offence")

    def __contains__(self, provision_id: object) -> bool:
        return provision_id in self._provisions

    def __len__(self) -> int:
        return len(self._provisions)


def _extend(base: Vocabulary, path: Path, problems: list[LawProblem]) -> Vocabulary:
    """Add a folder's national terms to the vocabulary; a clash is reported, not fatal."""
    try:
        extra, parsed = load_vocabulary_extension(path)
    except LawLibraryInvalid as exc:
        problems += exc.problems
        return base
    try:
        return Vocabulary(version=base.version, source=base.source, terms=[*base.terms, *extra.terms])
    except ValidationError as exc:  # a duplicate term or a maps_to that names nothing
        text = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        problems.append(LawProblem(path, line_of(parsed.node, ("terms",)), "terms", text))
    return base


@cache
def default_library() -> LawLibrary:
    """The packaged law library, loaded once per process."""
    return LawLibrary.load()


__all__ = ["PACKAGED_ROOT", "CheckReport", "LawLibrary", "default_library", "provision_files"]
