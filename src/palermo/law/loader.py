"""Read law-library YAML into the typed model, keeping line numbers for every problem.

Why not ``yaml.safe_load`` + pydantic alone: a lawyer editing ``msa-2015-s2.yaml`` needs to be told
*which line* is wrong, not a Python traceback. We compose the YAML node tree first (its marks carry
line numbers), build the data from it, and map pydantic's error locations back onto the nodes.

Every problem is a :class:`LawProblem` rendered as ``path:line: field.path: problem``. Loading stops
at the first file with problems (:class:`LawLibraryInvalid`, a :class:`LawDataError`); ``check``
collects them all so an editor can fix a whole draft bill in one pass.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from palermo.errors import LawDataError
from palermo.law.model import Provision, Strict, Term, Vocabulary

M = TypeVar("M", bound=BaseModel)
# libyaml's loader keeps the same node marks and is several times faster on the whole library.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class LawProblem:
    """One thing wrong with one law file, located as precisely as the YAML allows."""

    path: Path
    line: int
    field: str
    problem: str

    def __str__(self) -> str:
        field = self.field or "(file)"
        return f"{self.path}:{self.line}: {field}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``palermo law check --json``."""
        return {"path": str(self.path), "line": self.line, "field": self.field, "problem": self.problem}


class LawLibraryInvalid(LawDataError):
    """One or more law files do not validate; ``problems`` lists every one found."""

    def __init__(self, problems: Sequence[LawProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Parsed:
    """A YAML document: its plain data and the node tree that remembers line numbers."""

    path: Path
    data: Any
    node: yaml.Node | None


def field_path(loc: Loc) -> str:
    """Render a pydantic location as ``elements[2].alternatives[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def line_of(node: yaml.Node | None, loc: Loc) -> int:
    """1-based line of the YAML node at ``loc``: the key's line for a mapping entry.

    Walks as far as the document goes; a missing key reports the line of its parent mapping, the
    nearest thing an editor can look at.
    """
    if node is None:
        return 1
    line = node.start_mark.line + 1
    current: yaml.Node = node
    for part in loc:
        if isinstance(current, yaml.MappingNode) and isinstance(part, str):
            found = next(((k, v) for k, v in current.value if getattr(k, "value", None) == part), None)
            if found is None:
                return line
            line = found[0].start_mark.line + 1
            current = found[1]
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            current = current.value[part]
            line = current.start_mark.line + 1
        else:
            return line
    return line


def parse(path: Path) -> Parsed:
    """Parse one YAML file; malformed YAML raises with the parser's own line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LawLibraryInvalid([LawProblem(path, 1, "", f"cannot read: {exc}")]) from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise LawLibraryInvalid([LawProblem(path, line, "", f"malformed YAML: {problem}")]) from exc
    finally:
        loader.dispose()
    return Parsed(path, data, node)


def validate(parsed: Parsed, model: type[M]) -> M:
    """Validate parsed YAML against ``model``; every pydantic error becomes a located problem."""
    if not isinstance(parsed.data, dict):
        kind = type(parsed.data).__name__ if parsed.data is not None else "an empty file"
        raise LawLibraryInvalid([LawProblem(parsed.path, 1, "", f"expected a mapping, found {kind}")])
    try:
        return model.model_validate(parsed.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc: Loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            # Pydantic appends the union member or the validator name to some locations; strip
            # trailing parts that are not in the document so the line still resolves.
            problems.append(
                LawProblem(parsed.path, line_of(parsed.node, loc), field_path(loc), _message(err))
            )
        raise LawLibraryInvalid(problems) from exc


def _message(err: Any) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key (not part of the law-data format; see `palermo law schema`)"
    if kind == "missing":
        return "required key is missing"
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


class VocabularyExtension(Strict):
    """National terms a user's folder adds; checked for closure only once merged with ours."""

    version: str | None = None
    source: str | None = None
    terms: list[Term]


def load_vocabulary_extension(path: Path) -> tuple[VocabularyExtension, Parsed]:
    """Load a folder's ``vocabulary.yaml`` whose ``maps_to`` may point at packaged terms."""
    parsed = parse(path)
    return validate(parsed, VocabularyExtension), parsed


def load_vocabulary(path: Path) -> tuple[Vocabulary, Parsed]:
    """Load ``vocabulary.yaml`` (or a national extension with the same shape)."""
    parsed = parse(path)
    return validate(parsed, Vocabulary), parsed


def load_provision(path: Path) -> tuple[Provision, Parsed]:
    """Load one provision file."""
    parsed = parse(path)
    return validate(parsed, Provision), parsed


def provision_schema() -> str:
    """The published JSON Schema of a provision file, as committed in docs/law/provision.schema.json."""
    schema = Provision.model_json_schema(by_alias=True)
    schema["$id"] = "https://palermo.invalid/schemas/law/provision.schema.json"
    schema["title"] = "Palermo law-library provision"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def vocabulary_schema() -> str:
    """The JSON Schema of vocabulary.yaml."""
    schema = Vocabulary.model_json_schema(by_alias=True)
    schema["title"] = "Palermo law-library vocabulary"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


__all__ = [
    "LawLibraryInvalid",
    "LawProblem",
    "Parsed",
    "VocabularyExtension",
    "field_path",
    "line_of",
    "load_provision",
    "load_vocabulary",
    "load_vocabulary_extension",
    "parse",
    "provision_schema",
    "validate",
    "vocabulary_schema",
]
