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
#: Text Palermo writes itself inside longer text and that is never a phone number: item ids of
#: their exact shape (``ent:`` + 10 hex, ``e:``/``hit:``/``jdg:`` + 12), exhibit references in FtM notes
#: (``evidence:3:line:1004430``), JSON-path locators, UUIDs, digests of 32+ hex characters, amounts
#: with cents. Exact shapes only: a looser rule (any ``line:`` or any word of the letters a-f) let
#: numbers written next to such words through (``Ada-2125550199``), and so did a JSON path or an
#: exhibit reference with any text after it (``json:$.3055550199``, ``evidence:1:3055550199``). Dates
#: and times (``2025-01-02T09:00:00``) are here too, so a value that is one costs no matcher run.
_OWN_TEXT = re.compile(
    r"\bent:[0-9a-f]{10}\b|\b(?:e|hit|jdg):[0-9a-f]{12}\b"
    r"|\b(?:\d+:)?(?:jsonl:)?(?:line|row):\d{1,9}\b|\bsheet:[^!\s]*!row:\d{1,9}\b"
    r"|\bevidence:\d+:(?:(?:jsonl:)?(?:line|row):\d{1,9}\b|sheet:[^!\s]*!row:\d{1,9}\b|json:\$(?:[^\W\d]|[.]|\[\d{1,9}\])*)"
    r"|\bjson:\$(?:[^\W\d]|[.]|\[\d{1,9}\])*"
    r"|\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|\b(?=[0-9a-f]*[a-f])[0-9a-f]{32,}\b"
    r"|(?<![\d.,])(?:\d{1,3}(?:[.,]\d{3})+|\d+)[.,]\d{2}(?![\d.,])"
)
#: Whole values Palermo writes itself: statement ids and locators (``3:line:17``, ``5:jsonl:line:2``,
#: ``12:sheet:S!row:4``, ``6:json:$.calls[0]``; line numbers of at most nine digits, so a phone
#: number is never one), ISO 8601 times, item ids of their exact shape. Never scrubbed, and the
#: phone matcher (0.2 ms a string) never runs on them.
_OWN_VALUE = re.compile(
    r"(?:\d+:)?(?:(?:jsonl:)?line:\d{1,9}|sheet:[^!]*!row:\d{1,9}|row:\d{1,9}|json:\$\S*)(?::[\w.]+)*"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|ent:[0-9a-f]{10}|(?:e|hit|jdg):[0-9a-f]{12}"
)


def _is_own(text: str) -> bool:
    """Whether ``text`` is one of Palermo's own values and nothing else: of its shape, and without
    seven digits outside the ids it is made of. The shape alone let a message body that only looks
    like a locator out unread (``line:1:3055550199`` is a locator with a victim's number after it)."""
    if not _OWN_VALUE.fullmatch(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7:
        return True
    own = sum(ch.isdigit() for m in _OWN_TEXT.finditer(text) for ch in m.group(0))
    return digits - own < 7


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


#: A word of a name or a text is a run of letters and digits: ``Anna's``, ``#Anna``, ``Anna-Maria``
#: and ``@anna_k`` all contain the word ``anna``, and ``RENT GALIBERG & MORSKI APTS`` is the name
#: ``rent galiberg morski apts``.
_SEPARATOR = r"[\W_]+"
_WORD = re.compile(r"[^\W_]+")
#: The longest name (in words) looked for in free text.
MAX_WORDS = 8
#: Marks a word run that is the name of an entity that may be named (kept as it is).
_KEEP = ""
#: What a recorded victim's name, number or address becomes (she may have no entity of her own).
PROTECTED = "victim (protected)"
#: How many scrubbed strings a rule remembers.
_MEMO = 200_000


def _marked(alias: str) -> str:
    """A stand-in as written into free text: in brackets, so a reader can tell every word Palermo put
    there from the evidence's own words (``[possible victim 4ec63c]``, like ``[number withheld]``)."""
    return f"[{alias}]"


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
    """:func:`_find_numbers`, cached: the matcher costs about 0.3 ms a string and outputs repeat their
    strings (cities, timestamps, labels) many times. Not for a recorded victim's values, which must
    not outlive the rule built from them in a module-wide cache."""
    return _find_numbers(text, region)


def _find_numbers(text: str, region: str) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, key)`` of every phone number ``phonenumbers`` can find in ``text``, outside
    Palermo's own ids and digests."""
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7:
        return ()
    own = [(m.start(), m.end()) for m in _OWN_TEXT.finditer(text)]
    if digits - sum(ch.isdigit() for start, end in own for ch in text[start:end]) < 7:
        return ()
    found = []
    for m in PhoneNumberMatcher(text, region, leniency=Leniency.POSSIBLE):
        if any(m.start < end and start < m.end for start, end in own):
            continue
        found.append((m.start, m.end, _number_key(m.raw_string)))
    return tuple(found)


#: Words that make a run of an address's words a street name. Alone they name no street in particular,
#: nor do the words of ``_GENERIC``: a street is guarded only with a word of its own ("Elm").
# fmt: off
_STREET_TYPES = frozenset((
    "street", "st", "avenue", "ave", "road", "rd", "lane", "ln", "drive", "dr", "boulevard", "blvd", "way",
    "place", "pl", "court", "ct", "terrace", "crescent", "square", "sq", "highway", "hwy", "parkway", "pkwy",
    "rue", "calle", "avenida", "via", "viale", "rua", "plaza", "piazza", "strasse", "straße", "str", "weg",
    "platz", "allee", "straat", "laan", "gade", "vej", "gatan",
))
_GENERIC = _STREET_TYPES | frozenset((
    "the", "a", "an", "of", "de", "la", "le", "les", "del", "di", "da", "do", "po", "box", "apt", "apartment",
    "suite", "unit", "flat", "floor", "no",
))
#: What people save a contact as when it is not a name (``home``, ``mom``, ``boss``): one such word is
#: no name, and looking for it in free text rewrote evidence ("i want to go home" became "i want to go
#: possible victim 4ec63c") and put a victim into messages that never mentioned her. A value that is
#: only one of these words is still masked where it stands alone (a contact's name, a label), and a
#: recorded victim's name always. Endearments (``honey``, ``baby``) are not here: they are working names.
_CONTACT_LABELS = frozenset((
    "home", "house", "work", "job", "office", "boss", "mom", "mum", "mama", "mommy", "mother", "dad", "papa",
    "daddy", "father", "parents", "wife", "husband", "sister", "brother", "son", "daughter", "aunt", "uncle",
    "grandma", "granny", "grandpa", "cousin", "family", "friend", "me", "my", "myself", "unknown", "private",
    "taxi", "cab", "doctor", "hospital", "school", "hotel", "bank", "police", "emergency", "landlord",
))
# fmt: on
#: One-word street names of languages that write the type into the name (Hauptstraße, Kerkstraat).
_STREET_SUFFIX = re.compile(r"\w{3,}(?:straße|strasse|gasse|weg|straat|laan|gade|vej|gatan)")
_ADDRESS_PARTS = re.compile(r"[,،;\n]")


def _streets(address: str) -> list[frozenset[str]]:
    """The street names in a recorded address, without their house numbers: "at 22 Elm Street" names
    her street as surely as her own "12 Elm Street, Apt 3" does.

    A street is a run of words between numbers that holds a street type (``Street``, ``rue``) and a
    word of its own; it is taken up to the type (``Elm Street`` of ``12 Elm Street Springfield``) and
    from it (``rue de la Paix`` of ``5 rue de la Paix``), as languages put the type on either side.
    Generic words alone (``PO Box``, ``The Avenue``, ``A Street``) are no street: guarding them would
    hide every other address that uses them.
    """
    found: list[frozenset[str]] = []
    for part in _ADDRESS_PARTS.split(address.lower()):
        words = [t for t in re.split(_SEPARATOR, part) if t]
        runs: list[list[str]] = [[]]
        for word in words:
            if word.isdigit():
                runs.append([])
            else:
                runs[-1].append(word)
        for run in runs:
            for i, word in enumerate(run):
                if _STREET_SUFFIX.fullmatch(word):
                    found.append(frozenset({word}))
                if word not in _STREET_TYPES:
                    continue
                for street in (run[: i + 1], run[i:]):
                    if len(street) >= 2 and any(len(w) >= 3 and w not in _GENERIC for w in street):
                        found.append(frozenset(street))
    return found


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
        self,
        subjects: Iterable[Subject],
        *,
        reveal: bool = False,
        region: str = DEFAULT_REGION,
        protected: Iterable[str] = (),
    ) -> None:
        self.reveal = reveal
        self.region = region
        subjects = list(subjects)
        # the names, numbers and addresses of the victims recorded in the case store: whatever the
        # analysis made of them (a nickname for her entity, her account merged into a suspect's),
        # they are hers, and never shown
        guarded_numbers: set[str] = set()
        guarded_emails: set[str] = set()
        guarded_names: set[frozenset[str]] = set()
        for value in (p.strip() for p in protected if p and p.strip()):
            # a contact may hold a number and an address, an address a postcode: each part apart
            rest = value
            for m in _EMAIL.finditer(value):
                guarded_emails.add(m.group(0).lower())
                rest = rest.replace(m.group(0), " ")
            for start, end, number in sorted(_find_numbers(rest, region), reverse=True):
                guarded_numbers.add(number)
                rest = rest[:start] + " " + rest[end:]
            if _PHONE_LIKE.fullmatch(rest.strip(" ,;")):  # a number the matcher does not read as one
                guarded_numbers.add(_number_key(rest))
                rest = ""
            # the whole, and an address's first part alone (its street, usually)
            for words_of in (_name_key(rest), _name_key(_ADDRESS_PARTS.split(rest)[0]), *_streets(rest)):
                if sum(len(t) for t in words_of) >= 3 and len(words_of) <= MAX_WORDS:
                    guarded_names.add(words_of)
        victim_keys = {
            _name_key(n) for s in subjects if s.role in VICTIM_ROLES for n in (s.label, *s.names) if n
        } | guarded_names
        victim_keys.discard(frozenset())
        self._roles: dict[str, str | None] = {}
        self._labels: dict[str, str] = {s.entity_id: s.label for s in subjects}
        self.named: set[str] = set()
        replace: dict[str, str] = {}
        phones: dict[str, str] = {}
        words: dict[frozenset[str], str] = {}
        shown_numbers: set[str] = set()
        shown_emails: set[str] = set()
        shown_values: set[str] = set()  # every identifier of a named entity, as written
        keep: set[frozenset[str]] = set()  # names of entities that may be named
        for s in subjects:
            role = s.role
            if not is_suspected(role, s.ring) and (
                any(_name_key(n) in victim_keys for n in (s.label, *s.names))
                or any(i.lower() in guarded_emails for i in s.identifiers if "@" in i)
                or any(_number_key(i) in guarded_numbers for i in s.identifiers if "@" not in i)
            ):
                role = "possible_victim"  # a split-off part of a possible victim, or a recorded victim
            self._roles[s.entity_id] = role
            if not must_mask(role, s.ring, reveal=reveal):
                self.named.add(s.entity_id)
                keep.update(_name_key(n) for n in (s.label, *s.names) if n)
                shown_values.update(v.strip().lower() for v in s.identifiers if v)
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
        for key in guarded_names:
            words[key] = PROTECTED
        for number in guarded_numbers:
            # her entity's pseudonym where she has one (it is a possible victim's: the recorded number
            # made it one), so her number reads the same in a text and in a field beside it
            phones.setdefault(number, PROTECTED)
        for email in guarded_emails:
            replace[email] = PROTECTED
        self._shown_numbers -= guarded_numbers
        self._shown_emails -= guarded_emails
        self._shown_values = shown_values - replace.keys()
        keep -= guarded_names
        # a named entity's name is a word run of its own, so a masked one-word name inside it
        # ("Marco" in the suspect "Marco Rossi") is not replaced there; a masked name wins a tie
        for key in keep - words.keys():
            if key:
                words[key] = _KEEP
        self._words = words
        # in free text a contact label alone (``home``) is a common word, not a name: see _CONTACT_LABELS
        self._text_words = {
            key: alias
            for key, alias in words.items()
            if not (len(key) == 1 and key <= _CONTACT_LABELS and alias != PROTECTED)
        }
        self._scrubbed: dict[str, str] = {}

    @classmethod
    def from_connection(
        cls, con: Any, case_ref: str, *, reveal: bool = False, protected: Iterable[str] = ()
    ) -> Redaction:
        """The rule for ``case_ref`` from the analysis tables (run ``analyze`` first); ``protected``
        are the recorded victims' names, numbers and addresses (``PartyStore.protected_values``)."""
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
            protected=protected,
        )

    def masked(self, entity_id: str) -> bool:
        return str(entity_id) not in self.named

    def role(self, entity_id: str) -> str | None:
        """The role the rule works with (a split-off part of a possible victim counts as one)."""
        return self._roles.get(str(entity_id))

    def label(self, entity_id: str, label: str) -> str:
        """``label`` if the entity may be named and the label is nobody else's to hide (a suspect who
        holds a victim's phone may be labelled with her number), else the entity's pseudonym."""
        if self.masked(entity_id) or self.mask_value(label) is not None:
            return pseudonym(str(entity_id), self.role(str(entity_id)))
        return label

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
            hit = self._words.get(_name_key(text)) or None
        return hit

    def shown(self, values: Iterable[str]) -> list[str]:
        """The values of a named entity that may be shown: not a masked entity's, not a recorded
        victim's (resolution can give a suspect's entity her name or account, through a payment
        that named her beside his account)."""
        return [v for v in values if v and self.mask_value(v) is None]

    def may_show(self, value: str) -> bool:
        """Whether ``value`` is an identifier or name of an entity that may be named, and of nobody
        masked. Deny by default, for a value shown on its own rather than inside text (a judgement's
        key, an exported account): one the analysis does not know may be anybody's, a victim's too.
        """
        if not value.strip() or self.mask_value(value) is not None:
            return False
        text = value.strip().lower()
        if "@" in text:
            return text in self._shown_emails
        if text in self._shown_values:
            return True
        if len(_digits(text)) >= 7 and not any(ch.isalpha() for ch in text):
            return _number_key(text) in self._shown_numbers
        return self.may_name(value)

    @property
    def knows_nobody(self) -> bool:
        """True before the case's first analysis (or after its results were cleared): the rule can
        then tell nobody's values apart, and a caller should withhold free text it cannot check."""
        return not self._labels

    def may_name(self, name: str) -> bool:
        """Whether ``name`` is the name of an entity that may be named. A name the analysis does not
        know at all may be anybody's: deny by default (the FtM export withholds such people)."""
        return self._words.get(_name_key(name)) == _KEEP

    def scrub(self, text: str) -> str:
        """``text`` with every name or identifier of a masked entity replaced by its pseudonym, and
        every phone number or e-mail address of nobody who may be named withheld.

        Palermo's own values (statement ids, locators, times, item ids) are returned as they are.
        Results are remembered: an output repeats its strings (cities, labels, reasons) many times.
        """
        done = self._scrubbed.get(text)
        if done is not None:
            return done
        done = text if _is_own(text) else self.scrub_contacts(self._scrub_names(text))
        if len(self._scrubbed) >= _MEMO:
            self._scrubbed.clear()
        self._scrubbed[text] = done
        return done

    def _scrub_names(self, text: str) -> str:
        """Replace every run of whole words that is a masked entity's name or identifier, in any word
        order, longest run first. Whole words only: a short label (``Loro``) must not leave half of a
        longer name behind (``Loromi``), which a substring search would. A dictionary lookup per run
        of up to :data:`MAX_WORDS` words keeps this linear in the text whatever the number of names
        (a regular expression of every name was slow on a large case)."""
        if not self._text_words:
            return text
        emails = [(m.start(), m.end()) for m in _EMAIL.finditer(text)] if "@" in text else []
        found = [  # an address is the contacts pass's business, not this one's
            m for m in _WORD.finditer(text) if not any(m.start() < e and s < m.end() for s, e in emails)
        ]
        spans: list[tuple[int, int, str]] = []
        i = 0
        while i < len(found):
            for n in range(min(MAX_WORDS, len(found) - i), 0, -1):
                alias = self._text_words.get(frozenset(m.group(0).lower() for m in found[i : i + n]))
                if alias is not None:
                    if alias != _KEEP:
                        spans.append((found[i].start(), found[i + n - 1].end(), _marked(alias)))
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
        alias = self._replace.get(address.lower())
        return WITHHELD_EMAIL if alias is None else _marked(alias)

    def _scrub_numbers(self, text: str) -> str:
        """Masked entities' numbers become their pseudonyms; other numbers stay only if a named
        entity has them. The loose ``_PHONE_LIKE`` pass catches spellings of a *known* masked number
        the matcher would not call a number (``3 0 5 5 5 5 2 5 9 1`` is found by both)."""
        spans: list[tuple[int, int, str]] = []
        if self._phones:  # a known masked number is replaced wherever it is, whatever is next to it
            for m in _PHONE_LIKE.finditer(text):
                alias = self._phones.get(_number_key(m.group(0)))
                if alias is not None:
                    spans.append((m.start(), m.end(), _marked(alias)))
        for start, end, key in _numbers_in(text, self.region):
            if any(start < e and s < end for s, e, _ in spans):
                continue
            alias = self._phones.get(key)
            if alias is None and key in self._shown_numbers:
                continue
            spans.append((start, end, WITHHELD_NUMBER if alias is None else _marked(alias)))
        for start, end, alias in sorted(spans, reverse=True):
            text = text[:start] + alias + text[end:]
        return text

    def tree(self, data: Any) -> Any:
        """A JSON-like structure with masked entities pseudonymised and all text scrubbed.

        A dict carrying a masked ``entity_id`` (or ``id``) gets its ``label`` / ``subject`` replaced
        and its identifier lists emptied; a named one keeps its own label and name as they are; every
        other string is scrubbed, except SQL (Palermo's own, shown so an expert can re-run it).
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
        named = bool(eid) and not self.masked(str(eid))
        out = {
            k: v if k == "sql" or (named and k in ("label", "name") and isinstance(v, str)) else self.tree(v)
            for k, v in data.items()
        }
        if named:
            for key in IDENTIFIER_KEYS & out.keys():
                if isinstance(data[key], list):
                    out[key] = self.shown(str(v) for v in data[key])
            for key in ("label", "name"):
                if isinstance(out.get(key), str):
                    out[key] = self.label(str(eid), out[key])
        if eid and self.masked(str(eid)):
            alias = pseudonym(str(eid), self.role(str(eid)))
            for key in ("label", "subject", "name"):
                if key in out:
                    out[key] = alias
            for key in IDENTIFIER_KEYS & out.keys():
                out[key] = []
        return out


__all__ = [
    "PROTECTED",
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
