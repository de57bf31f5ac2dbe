"""The classification, handling caveat and watermark every export carries (MP-03, CJIS MP-3).

An export leaves the protected system and may be copied, forwarded or lost. Whoever finds it must be
able to read, in the file itself and by machine, how it is to be handled (the classification and the
caveat) and whom it was given to (the recipient), and the office must be able to tell it apart from
every other export (a unique export id, recorded with the file's SHA-256 in the case's audit trail).

Each format carries the same fields where its readers look for them:

- GEXF: ``<meta>``: ``<creator>`` Palermo, ``<keywords>`` the classification, ``<description>`` the
  fields as JSON (GEXF has no graph-level attributes);
- GraphML: ``<data>`` on the ``<graph>`` for each field (``<key for="graph">``), so yEd, Cytoscape and
  any GraphML reader keep them as graph attributes;
- FollowTheMoney: the stream's first line is a ``Note`` entity (a schema with no required property,
  which Aleph/OpenAleph import like any other; its caption is the banner) with the fields as JSON in
  ``summary``, the classification in ``keywords``, Palermo as ``publisher`` and the time in
  ``createdAt``. A sidecar manifest was the other choice, but a sidecar is the first thing to be left
  behind when a file is forwarded, and it would be a second file to audit; a line of the stream
  travels with it into the partner's collection.

The fields (``MARKING_SCHEMA``): classification, handling, recipient (``null`` when the workspace lets
exports leave unaddressed), export_id, case, exported_at (UTC), format, revealed (whether
``--reveal-identities`` named unsuspected people).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from followthemoney import model

#: Names the shape of the marking's fields, so a reader can tell this marking from any other JSON.
MARKING_SCHEMA = "palermo-export-marking/1"
#: The FtM id of a marking ``Note`` starts with this: an exporter leaves out a marking it imported
#: with another stream, which would otherwise name another export's recipient.
MARKING_ID_PREFIX = "palermo-marking-"
#: What the banner says when the workspace lets an export leave without a named recipient.
UNADDRESSED = "no named recipient"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class ExportMarking:
    """What one export is marked with; a new ``export_id`` and time for every export."""

    classification: str
    handling: str
    recipient: str | None
    case: str
    format: str
    revealed: bool = False
    export_id: str = field(default_factory=_new_id)
    exported_at: str = field(default_factory=_now)

    def fields(self) -> dict[str, Any]:
        """The machine-readable marking, in a fixed order (``recipient`` is None when unaddressed)."""
        return {
            "marking": MARKING_SCHEMA,
            "classification": self.classification,
            "handling": self.handling,
            "recipient": self.recipient,
            "export_id": self.export_id,
            "case": self.case,
            "exported_at": self.exported_at,
            "format": self.format,
            "revealed": self.revealed,
        }

    def to_json(self) -> str:
        return json.dumps(self.fields(), ensure_ascii=False)

    @property
    def banner(self) -> str:
        """One line for people: ``RESTRICTED · for Europol liaison · Palermo export 5f0c…``."""
        return (
            f"{self.classification} · for {self.recipient or UNADDRESSED} · Palermo export {self.export_id}"
        )

    def graph_attributes(self) -> dict[str, str | bool]:
        """The fields as graph attributes (GraphML has no null: an unaddressed recipient is "")."""
        return {key: "" if value is None else value for key, value in self.fields().items()}

    def ftm_entity(self) -> dict[str, Any]:
        """The FtM ``Note`` that opens an FtM stream (see the module docstring)."""
        note = model.make_entity("Note")
        note.id = MARKING_ID_PREFIX + self.export_id
        note.add("name", self.banner)
        note.add("description", f"{self.banner}. {self.handling}")
        note.add("keywords", [self.classification, MARKING_SCHEMA])
        note.add("summary", self.to_json())
        note.add("publisher", "Palermo")
        note.add("createdAt", self.exported_at)
        return note.to_dict()


def is_marking(entity_id: str | None) -> bool:
    """Whether an FtM entity id is that of a Palermo export's marking."""
    return bool(entity_id) and str(entity_id).startswith(MARKING_ID_PREFIX)


__all__ = ["MARKING_ID_PREFIX", "MARKING_SCHEMA", "UNADDRESSED", "ExportMarking", "is_marking"]
