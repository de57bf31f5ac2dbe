"""Who may be named outside the protected record: one deny-by-default rule for every output.

Names, phones, e-mails and accounts come straight from the evidence, and resolution can split one
person over several entities (her phone in one, the bank account in her name in another), so a rule
that hides only the entities labelled *possible victim* leaks the rest of her. The rule here is the
other way round: only entities the analysis suspects (a suspected ring member or a suspect role) may
be named. Possible victims are always pseudonymous; every other person is pseudonymous unless the
caller explicitly reveals identities (the web's victim-identity permission, or an audited
``--reveal-identities`` on the command line). Entities that share a name with a possible victim
count as possible victims themselves, so a revealed export does not name her through a split entity.

Pseudonyms (``person 3fa2c1`` / ``possible victim 3fa2c1``) come from the entity id, so they are
stable across exports and views and can be explained back with ``--explain``.

Free text (a message body, an ad, a statement's fields) is scrubbed the same way round. A phone number
or e-mail address in it is shown only when it belongs to an entity that may be named; one that belongs
to a masked entity becomes that entity's pseudonym, and one that belongs to *no* resolved entity is
withheld (``[number withheld]``, ``[e-mail withheld]``): a victim's second phone, written once in a
text and never seen in the call records, is exactly the number resolution cannot attach to her, and
the only safe guess about an unknown number is that it may be hers. Numbers are found with
``phonenumbers``' matcher at its most permissive leniency (so ``555 0199`` and ``+33 6 12 34 56 78``
are found, and dates, times and amounts are not); Palermo's own ids, locators and hex digests are
never read as numbers, so ``--explain`` ids keep working in a scrubbed output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from phonenumbers import Leniency, PhoneNumberMatcher

from palermo.ingest.normalise import DEFAULT_REGION

SUSPECT_ROLES = frozenset({"recruiter", "controller", "transporter", "driver", "financier", "money_handler"})
VICTIM_ROLES = frozenset({"possible_victim", "victim"})
#: Keys whose values are a masked entity's identifiers: emptied rather than rewritten.
IDENTIFIER_KEYS = frozenset({"phones", "emails", "accounts", "names"})
_PHONE_LIKE = re.compile(r"\+?\d[\d\s().\-]{5,}\d")
#: What an unknown number or address in free text is replaced with (deny by default).
WITHHELD_NUMBER = "[number withheld]"
WITHHELD_EMAIL = "[e-mail withheld]"
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
#: Text Palermo writes itself and that is never a phone number: item ids (``e:…``, ``ent:…``,
#: ``hit:…``), locators and statement ids (``line:1004430``, ``sheet:S!row:17``), hex digests and
#: UUIDs (image hashes, SHA-256), and amounts with cents (``1250000.00``). Without this a scrubbed
#: ``stmt_id`` would lose its line number.
_OWN_TEXT = re.compile(
    r"\b(?:e|ent|hit|lead):[0-9a-z]+"
    r"|\b(?:line|row):\d+(?::\w+)*"
    r"|(?<![\d.,])(?:\d{1,3}(?:[.,]\d{3})+|\d+)[.,]\d{2}(?![\d.,])"
    r"|\b(?=[0-9a-f-]*[a-f])[0-9a-f][0-9a-f-]{7,}\b",
    re.IGNORECASE,
)


def is_suspected(role: str | None, ring: bool | None) -> bool:
    """A suspected ring member or someone the analysis gives a suspect role: may be named."""
    return bool(ring) or role in SUSPECT_ROLES


def must_mask(role: str | None, ring: bool | None, *, reveal: bool) -> bool:
    """Possible victims always; other unsuspected people unless identities are explicitly revealed."""
    if role in VICTIM_ROLES:
        return True
    return not is_suspected(role, ring) and not reveal


def pseudonym(entity_id: str, role: str | None) -> str:
    """The stable stand-in label for an entity that must not be named."""
    kind = "possible victim" if role in VICTIM_ROLES else "person"
    return f"{kind} {str(entity_id)[-6:]}"


#: What separates the words of a name or a text; a "word" without a letter or digit (``&``, ``-``)
#: is skipped, so ``RENT GALIBERG & MORSKI APTS`` and ``rent galiberg morski apts`` are one name.
_SEPARATOR = r"[\s,.:;/\\|()\[\]{}\"<>=!?*]+"
_WORD = re.compile(r"[^\s,.:;/\\|()\[\]{}\"<>=!?*]+")
#: The longest name (in words) looked for in free text.
MAX_WORDS = 8


def _name_key(name: str) -> frozenset[str]:
    """Order-free words of a name, so ``Marilberg, Corliel`` matches ``Corliel Marilberg`` and an
    explanation's normalised key ``a torenton`` matches ``A. Torenton``."""
    return frozenset(t for t in re.split(_SEPARATOR, name.lower()) if any(ch.isalnum() for ch in t))


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _number_key(text: str) -> str:
    """How two spellings of one number are compared: their last nine digits."""
    return _digits(text)[-9:]


@lru_cache(maxsize=65536)
def _numbers_in(text: str, region: str) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, key)`` of every phone number ``phonenumbers`` can find in ``text``, outside
    Palermo's own ids and digests. Cached: the matcher costs about 0.3 ms a string and outputs
    repeat their strings (cities, timestamps, labels) many times."""
    if sum(ch.isdigit() for ch in text) < 7:
        return ()
    own = [(m.start(), m.end()) for m in _OWN_TEXT.finditer(text)]
    found = []
    for m in PhoneNumberMatcher(text, region, leniency=Leniency.POSSIBLE):
        if any(m.start < end and start < m.end for start, end in own):
            continue
        found.append((m.start, m.end, _number_key(m.raw_string)))
    return tuple(found)


@dataclass(frozen=True)
class Subject:
    """What the rule needs to know about one resolved entity."""

    entity_id: str
    label: str
    role: str | None = None
    ring: bool = False
    names: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # phones, e-mails, accounts


class Redaction:
    """The rule applied to one case: which entities are masked, their pseudonyms, and text scrubbing.

    Deny by default: an entity id the case does not know is masked too.
    """

    def __init__(
        self, subjects: Iterable[Subject], *, reveal: bool = False, region: str = DEFAULT_REGION
    ) -> None:
        self.reveal = reveal
        self.region = region
        subjects = list(subjects)
        victim_keys = {
            _name_key(n) for s in subjects if s.role in VICTIM_ROLES for n in (s.label, *s.names) if n
        }
        victim_keys.discard(frozenset())
        self._roles: dict[str, str | None] = {}
        self._labels: dict[str, str] = {s.entity_id: s.label for s in subjects}
        self.named: set[str] = set()
        replace: dict[str, str] = {}
        phones: dict[str, str] = {}
        words: dict[frozenset[str], str] = {}
        shown_numbers: set[str] = set()
        shown_emails: set[str] = set()
        for s in subjects:
            role = s.role
            if not is_suspected(role, s.ring) and any(
                _name_key(n) in victim_keys for n in (s.label, *s.names)
            ):
                role = "possible_victim"  # a split-off part of a possible victim
            self._roles[s.entity_id] = role
            if not must_mask(role, s.ring, reveal=reveal):
                self.named.add(s.entity_id)
                for value in s.identifiers:
                    if "@" in value:
                        shown_emails.add(value.strip().lower())
                    elif len(_digits(value)) >= 7:
                        shown_numbers.add(_number_key(value))
                continue
            alias = pseudonym(s.entity_id, role)
            # names in any word order; an identifier only as one whole word (an account number):
            # phones and addresses have their own passes, and their parts in any order mean nothing
            for value in (s.label, *s.names, *(i for i in s.identifiers if len(_name_key(i)) == 1)):
                key = _name_key(value or "")
                if sum(len(t) for t in key) >= 3 and len(key) <= MAX_WORDS:
                    words.setdefault(key, alias)
            for value in s.identifiers:
                if value and len(value.strip()) >= 3:
                    replace.setdefault(value.strip().lower(), alias)
                    if len(_digits(value)) >= 7 and "@" not in value:
                        phones.setdefault(_number_key(value), alias)
        self._replace = replace
        self._phones = phones
        # a number or address both a named and a masked entity carry is masked (the masked wins)
        self._shown_numbers = shown_numbers - phones.keys()
        self._shown_emails = shown_emails - replace.keys()
        self._words = words

    @classmethod
    def from_connection(cls, con: Any, case_ref: str, *, reveal: bool = False) -> Redaction:
        """The rule for ``case_ref`` from the analysis tables (run ``analyze`` first)."""
        rows = con.execute(
            """SELECT e.entity_id, e.label, r.role, coalesce(r.ring, FALSE), e.names, e.phones, e.emails,
                      e.accounts
               FROM entities e LEFT JOIN entity_roles r
                 ON r.case_ref = e.case_ref AND r.entity_id = e.entity_id
               WHERE e.case_ref = ?""",
            [case_ref],
        ).fetchall()
        return cls(
            (
                Subject(
                    str(eid),
                    str(label or ""),
                    role,
                    bool(ring),
                    tuple(names or ()),
                    (*(phones or ()), *(emails or ()), *(accounts or ())),
                )
                for eid, label, role, ring, names, phones, emails, accounts in rows
            ),
            reveal=reveal,
        )

    def masked(self, entity_id: str) -> bool:
        return str(entity_id) not in self.named

    def role(self, entity_id: str) -> str | None:
        """The role the rule works with (a split-off part of a possible victim counts as one)."""
        return self._roles.get(str(entity_id))

    def label(self, entity_id: str, label: str) -> str:
        """``label`` if the entity may be named, else its pseudonym."""
        return pseudonym(entity_id, self.role(entity_id)) if self.masked(entity_id) else label

    def display(self, entity_id: str) -> str:
        """How to show an entity known only by id: its label if it may be named, else its pseudonym."""
        return self.label(entity_id, self._labels.get(str(entity_id), str(entity_id)))

    def mask_value(self, value: str) -> str | None:
        """The pseudonym standing for a masked entity's name or identifier, or None if it may be shown."""
        text = value.strip()
        hit = self._replace.get(text.lower())
        if hit is None and len(_digits(text)) >= 7 and "@" not in text:
            hit = self._phones.get(_digits(text)[-9:])
        if hit is None:
            hit = self._words.get(_name_key(text))
        return hit

    def scrub(self, text: str) -> str:
        """``text`` with every name or identifier of a masked entity replaced by its pseudonym, and
        every phone number or e-mail address of nobody who may be named withheld."""
        return self.scrub_contacts(self._scrub_names(text))

    def _scrub_names(self, text: str) -> str:
        """Replace every run of whole words that is a masked entity's name or identifier, in any word
        order, longest run first. Whole words only: a short label (``Loro``) must not leave half of a
        longer name behind (``Loromi``), which a substring search would. A dictionary lookup per run
        of up to :data:`MAX_WORDS` words keeps this linear in the text whatever the number of names
        (a regular expression of every name was slow on a large case)."""
        if not self._words:
            return text
        found = [m for m in _WORD.finditer(text) if any(ch.isalnum() for ch in m.group(0))]
        spans: list[tuple[int, int, str]] = []
        i = 0
        while i < len(found):
            for n in range(min(MAX_WORDS, len(found) - i), 0, -1):
                alias = self._words.get(frozenset(m.group(0).lower() for m in found[i : i + n]))
                if alias is not None:
                    spans.append((found[i].start(), found[i + n - 1].end(), alias))
                    i += n
                    break
            else:
                i += 1
        for start, end, alias in reversed(spans):
            text = text[:start] + alias + text[end:]
        return text

    def scrub_contacts(self, text: str) -> str:
        """Only the phone numbers and e-mail addresses of ``text``: a masked entity's become its
        pseudonym, a named entity's stay, anybody else's are withheld. Cheap (no name search), for
        text whose people are already known to be named, like a web timeline row."""
        if "@" in text:
            text = _EMAIL.sub(self._email, text)
        return self._scrub_numbers(text)

    def _email(self, match: re.Match[str]) -> str:
        address = match.group(0)
        if address.lower() in self._shown_emails:
            return address
        return self._replace.get(address.lower(), WITHHELD_EMAIL)

    def _scrub_numbers(self, text: str) -> str:
        """Masked entities' numbers become their pseudonyms; other numbers stay only if a named
        entity has them. The loose ``_PHONE_LIKE`` pass catches spellings of a *known* masked number
        the matcher would not call a number (``3 0 5 5 5 5 2 5 9 1`` is found by both)."""
        spans: list[tuple[int, int, str]] = []
        if self._phones:
            own = [(m.start(), m.end()) for m in _OWN_TEXT.finditer(text)]
            for m in _PHONE_LIKE.finditer(text):
                alias = self._phones.get(_number_key(m.group(0)))
                if alias is not None and not any(m.start() < e and s < m.end() for s, e in own):
                    spans.append((m.start(), m.end(), alias))
        for start, end, key in _numbers_in(text, self.region):
            if any(start < e and s < end for s, e, _ in spans):
                continue
            alias = self._phones.get(key)
            if alias is None and key in self._shown_numbers:
                continue
            spans.append((start, end, alias or WITHHELD_NUMBER))
        for start, end, alias in sorted(spans, reverse=True):
            text = text[:start] + alias + text[end:]
        return text

    def tree(self, data: Any) -> Any:
        """A JSON-like structure with masked entities pseudonymised and all text scrubbed.

        A dict carrying a masked ``entity_id`` (or ``id``) gets its ``label`` / ``subject`` replaced
        and its identifier lists emptied; every string anywhere is scrubbed.
        """
        if isinstance(data, str):
            return self.scrub(data)
        if isinstance(data, list | tuple):
            return [self.tree(v) for v in data]
        if not isinstance(data, dict):
            return data
        eid = data.get("entity_id") or (
            data.get("id") if str(data.get("id", "")).startswith("ent:") else None
        )
        out = {k: self.tree(v) for k, v in data.items()}
        if eid and self.masked(str(eid)):
            alias = pseudonym(str(eid), self.role(str(eid)))
            for key in ("label", "subject", "name"):
                if key in out:
                    out[key] = alias
            for key in IDENTIFIER_KEYS & out.keys():
                out[key] = []
        return out


__all__ = [
    "SUSPECT_ROLES",
    "VICTIM_ROLES",
    "WITHHELD_EMAIL",
    "WITHHELD_NUMBER",
    "Redaction",
    "Subject",
    "is_suspected",
    "must_mask",
    "pseudonym",
]
