"""The Workspace: the one front door that the CLI, the web app and notebooks all drive.

``Workspace.init(path)`` creates a folder (``palermo.db``, ``evidence/``, ``settings.toml``), makes
sure a master key exists *outside* it, and migrates the database to the newest schema;
``Workspace.open(path)`` does the same for an existing folder. Components hang off the object
(``ws.cases``, ``ws.parties``, ``ws.charges``, ``ws.evidence``, ``ws.proof``, ``ws.leads``,
``ws.law``, ``ws.audit``, ``ws.keys``, ``ws.analytics``), so behaviour is written once.

The acting person (``actor``) is recorded in every audit event and custody record. It defaults to
``PALERMO_USER`` or the login name; a multi-user front end calls :meth:`as_actor` per request, which
returns a view sharing the same database and keys.
"""

from __future__ import annotations

import getpass
import logging
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from sqlalchemy.engine import make_url

from palermo.domain.chain import Checkpoint
from palermo.errors import ConfigurationError, InputError
from palermo.law.library import LawLibrary, default_library
from palermo.law.model import Provision
from palermo.security.audit import AuditHead, AuditLog, AuditRecord
from palermo.security.crypto import (
    Keyring,
    MasterKey,
    add_to_shred_list,
    read_shred_list,
    record_shred,
    start_shred_list,
    workspace_lineage,
)
from palermo.settings import (
    PRIVATE_FILE_MODE,
    Settings,
    ensure_master_key,
    private_file,
    private_folder,
    read_master_key,
    resolve,
    write_settings,
)
from palermo.store import database
from palermo.store.cases import CaseService
from palermo.store.charges import ChargeService
from palermo.store.evidence import EvidenceService
from palermo.store.leads import LeadService
from palermo.store.parties import PartyService
from palermo.store.ports import StoreContext
from palermo.store.proof import ProofService

if TYPE_CHECKING:
    from palermo.analytics.service import Analytics


def default_actor() -> str:
    """Who is acting when no one says: ``PALERMO_USER`` or the operating-system login."""
    try:
        return os.environ.get("PALERMO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


_log = logging.getLogger(__name__)


class AuditService:
    """Read, verify and checkpoint the audit log (writes happen inside each service's own transaction)."""

    def __init__(self, ctx: StoreContext, log: AuditLog, workspace: Path) -> None:
        self.ctx = ctx
        self.log = log
        self.workspace = workspace

    def events(self, case_ref: str | None = None, *, limit: int | None = None) -> list[AuditRecord]:
        """The events, oldest first, without recording the read (for code and tests, not people)."""
        from palermo.store import repository

        with self.ctx.db.read() as session:
            case_id = repository.case_by_ref(session, case_ref).id if case_ref else None
            return self.log.events(session, case_id=case_id, limit=limit)

    def read(self, case_ref: str | None = None, *, limit: int | None = None) -> list[AuditRecord]:
        """The events, oldest first, for a person to read: the read itself is audited (``audit.read``).

        The log says who did what to which victim's record, so reading it is a read of sensitive
        records like any other. The events are read and the read recorded in one transaction, so
        the listing is the log just before its own ``audit.read`` event, and a read that cannot be
        audited does not happen.
        """
        from palermo.store import repository

        with self.ctx.db.transaction() as session:
            case_id = repository.case_by_ref(session, case_ref).id if case_ref else None
            events = self.log.events(session, case_id=case_id, limit=limit)
            detail: dict[str, Any] = {"events": len(events)}
            if limit is not None:
                detail["limit"] = limit
            self.log.record(
                session,
                actor=self.ctx.actor,
                action="audit.read",
                object_type="audit_log",
                case_id=case_id,
                detail=detail,
            )
        return events

    def checkpoint(self, case_ref: str | None = None) -> dict[str, Any]:
        """Record an ``audit.checkpoint`` event, verify the chain, and return the head that includes it.

        The checkpoint is for someone outside the operator to keep (defence, court, a second
        officer): with it, :meth:`verify` detects a removed or rewritten tail that the chain alone
        cannot. Taking one is audited, and since recording that moves the head, the event is written
        first and the head reported is that event, so the checkpoint also covers its own taking. A
        chain that does not verify gets no checkpoint (IntegrityError, nothing recorded): handing out
        a head of tampered history would vouch for it. ``case_ref`` only files the event under that
        case; the log, and so the checkpoint, is one for the whole workspace.
        """
        from palermo.errors import IntegrityError
        from palermo.store import repository

        # the whole log is re-hashed outside the write transaction (seconds on a large log, during
        # which sign-ins and every audited write would wait); inside it, only what came since
        with self.ctx.db.read() as session:
            problems = self.log.verify(session)
            verified = self.log.head(session)
        if problems:
            raise IntegrityError(
                "audit log does not verify, no checkpoint taken: " + "; ".join(map(str, problems))
            )
        with self.ctx.db.transaction() as session:
            case_id = repository.case_by_ref(session, case_ref).id if case_ref else None
            self.log.record(
                session,
                actor=self.ctx.actor,
                action="audit.checkpoint",
                object_type="audit_log",
                case_id=case_id,
            )
            if verified is None:  # the log was empty: what is there now is all new, and short
                problems = self.log.verify(session)
            else:
                problems = self.log.verify_since(session, verified.seq, verified.hash)
            if problems:
                raise IntegrityError(
                    "audit log does not verify, no checkpoint taken: " + "; ".join(map(str, problems))
                )
            head = self.log.head(session)
        # once more, whole, now the event is in: an edit made between the first check and the write,
        # to an entry before the verified head, is caught here, and no checkpoint vouches for it
        with self.ctx.db.read() as session:
            problems = self.log.verify(session)
        if problems:
            raise IntegrityError(
                "audit log changed while the checkpoint was taken and does not verify, no checkpoint given: "
                + "; ".join(map(str, problems))
            )
        assert head is not None  # the checkpoint event was just written
        data: dict[str, Any] = {
            "workspace": str(self.workspace),
            "seq": head.seq,
            "hash": head.hash,
            "at": head.at.isoformat(),
            "count": head.count,
        }
        if case_ref:
            data["case"] = case_ref
        return data

    def generation(self) -> int:
        """The id of the newest audit event (0 when none): it grows with every audited write.

        Every change to the case store (cases, parties, charges, evidence, proof links, leads, keys)
        is audited in its own transaction, by whichever process makes it, so this one indexed
        lookup tells a reader (the web app's read-model cache) whether anything changed since.
        """
        from sqlalchemy import func, select

        from palermo.security.audit import AUDIT

        with self.ctx.db.read() as session:
            return int(session.execute(select(func.max(AUDIT.c.id))).scalar() or 0)

    def head(self) -> AuditHead | None:
        """The newest event and the number of events (None for an empty log); not audited."""
        with self.ctx.db.read() as session:
            return self.log.head(session)

    def verify(self, checkpoint: Checkpoint | None = None) -> list[str]:
        """Every problem in the audit chain, as text (empty when intact).

        With a ``checkpoint`` taken earlier, also every way the log lost or rewrote its head since.
        Verifying shows no event, so it is not audited (and works on a read-only copy).
        """
        with self.ctx.db.read() as session:
            return [str(p) for p in self.log.verify(session, checkpoint)]


class KeyService:
    """Key management: rotate a case key, re-wrap under a new master key, crypto-shred a case."""

    def __init__(self, ctx: StoreContext, keyring: Keyring, master_key_file: Path | None = None) -> None:
        self.ctx = ctx
        self.keyring = keyring
        self.master_key_file = master_key_file

    def _case_id(self, session: Any, case_ref: str) -> int:
        from palermo.store import repository

        return repository.case_by_ref(session, case_ref).id

    def rotate(self, case_ref: str) -> int:
        """Re-encrypt a case's identity fields under a new data key; returns the rows re-encrypted."""
        return self._keyring_change(case_ref, "rotate", "rows")

    def shred(self, case_ref: str) -> int:
        """Delete a case's data keys (crypto-shredding its identities); returns the keys deleted.

        The shred is also listed beside the master key file (``master.key.shredded``), before the
        transaction commits: backups made earlier still hold the keys, and a restore of one shreds them
        again from that list, even once this workspace is gone (MP-02). A list that cannot be written
        undoes the shred, rather than leaving one that a restore would not know of.
        """
        with self.ctx.db.transaction() as session:
            case_id = self._case_id(session, case_ref)
            versions = self.keyring.versions(session, case_id)
            done = self.keyring.shred(session, case_id)
            seq = self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="case.key.shred",
                object_type="case",
                object_id=case_id,
                case_id=case_id,
                detail={"keys": done},
            )
            if self.master_key_file is not None and versions:
                lineage = workspace_lineage(session)  # never empty: the shred itself was just recorded
                record_shred(
                    self.master_key_file,
                    {
                        "workspace_genesis": lineage[0]["instance"],
                        "instance": lineage[-1]["instance"],
                        "case_id": case_id,
                        "case": case_ref,
                        "versions": versions,
                        "audit_seq": seq,
                        "at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "by": self.ctx.actor,
                        "master_key_id": self.keyring.master.key_id,
                    },
                )
            return done

    def _keyring_change(self, case_ref: str, operation: str, counted: str) -> int:
        with self.ctx.db.transaction() as session:
            case_id = self._case_id(session, case_ref)
            done: int = getattr(self.keyring, operation)(session, case_id)
            self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action=f"case.key.{operation}",
                object_type="case",
                object_id=case_id,
                case_id=case_id,
                detail={counted: done},
            )
            return done

    def rewrap(self, new_master_key_file: Path) -> int:
        """Move every key to a new master key: case keys re-wrapped, accounts' two-factor secrets
        re-sealed (their key is derived from the master key), in one transaction."""
        new = MasterKey(read_master_key(new_master_key_file))
        if self.master_key_file is not None:  # the shreds follow the keys to their new master key
            # first, so a list that cannot be written stops the rewrap
            self._carry_shreds(new_master_key_file, self.master_key_file)
        with self.ctx.db.transaction() as session:
            state = _lock_master_state(session)  # enrolments wait for the rotation, and see its result
            resealed, broken = _reseal_user_secrets(session, self.keyring.master, new)
            done = self.keyring.rewrap(session, new)
            if state is None:
                _record_master_state(session, new.key_id)
            else:
                state.key_id = new.key_id
            rewrap_seq = self.ctx.audit.record(
                session,
                actor=self.ctx.actor,
                action="master_key.rewrap",
                object_type="master_key",
                object_id=new.key_id,
                detail={"keys": done, "user_secrets": resealed, "user_secrets_unreadable": len(broken)},
            )
        self.keyring.master = new  # only once the transaction has committed
        old_key_file, self.master_key_file = self.master_key_file, new_master_key_file  # later shreds: here
        if old_key_file is not None:
            try:
                self._carry_shreds(new_master_key_file, old_key_file)  # any listed meanwhile
                self._carry_starts(new_master_key_file, old_key_file, rewrap_seq)
            except ConfigurationError as exc:
                raise ConfigurationError(
                    f"the keys were re-wrapped, but the shred list beside the new master key could not be "
                    f"completed ({exc.message}): until it is, restores of older backups with it cannot "
                    "tell what was shredded before",
                    location=exc.location,
                ) from None
        return done

    def _carry_shreds(self, new_master_key_file: Path, old_key_file: Path) -> None:
        """Copy the shreds listed beside the old key to the list beside the new one (those not there)."""
        old = read_shred_list(old_key_file)
        there = read_shred_list(new_master_key_file)
        add_to_shred_list(
            new_master_key_file,
            [
                {"kind": "shred", **entry}
                for entry in (old.shreds if old else [])
                if there is None or entry not in there.shreds
            ],
        )

    def _carry_starts(self, new_master_key_file: Path, old_key_file: Path, rewrap_seq: int) -> None:
        """Say, in the new key's list, from when it is complete for this workspace's line of descent:
        from where the old list was (its shreds were carried), or, where the old list could not say, from
        the rewrap on (shreds are listed beside the new key from then), and nothing of before. Written
        once the rewrap committed, so a failed rewrap claims nothing; only for this workspace (another
        still under the old key goes on listing its shreds there)."""
        old = read_shred_list(old_key_file)
        with self.ctx.db.read() as session:
            lineage = workspace_lineage(session)
        lines: list[dict[str, Any]] = []
        for segment in lineage:
            instance = str(segment["instance"])
            after = old.complete_after(instance) if old is not None else None
            if after is None and segment is not lineage[-1]:
                continue  # an ancestor the old list knew nothing of: the new one claims nothing either
            lines.append(
                {
                    "kind": "start",
                    "instance": instance,
                    "workspace_genesis": lineage[0]["instance"],
                    "audit_seq": after if after is not None else rewrap_seq,
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "reason": "carried by rewrap" if after is not None else "rewrap: complete from here on",
                }
            )
        add_to_shred_list(new_master_key_file, lines)


def _lock_master_state(session: Any) -> Any:
    """The ``master_key_state`` row, locked for the transaction (None if none was recorded)."""
    from sqlalchemy import select

    from palermo.store.tables import MasterKeyState

    return session.scalar(select(MasterKeyState).where(MasterKeyState.id == 1).with_for_update())


def _record_master_state(session: Any, key_id: str) -> None:
    from palermo.store.tables import MasterKeyState

    session.add(MasterKeyState(id=1, key_id=key_id))


def _reseal_user_secrets(session: Any, old: MasterKey, new: MasterKey) -> tuple[int, list[int]]:
    """Re-seal every sealed TOTP secret from the old master key's derived key to the new one's.

    A secret the old key cannot open (sealed under yet another key) cannot be saved: it is left as
    it is, so that account keeps failing closed until it is enrolled again, and the rotation
    itself, perhaps urgent because a key leaked, goes ahead. Returns (re-sealed, unreadable ids)."""
    from sqlalchemy import select, update

    from palermo.errors import IntegrityError
    from palermo.security.auth import Authenticator
    from palermo.store.tables import User

    before, after = Authenticator(master=old), Authenticator(master=new)
    rows = session.execute(
        select(User.id, User.totp_sealed).where(User.totp_sealed.is_not(None)).with_for_update()
    ).all()
    broken: list[int] = []
    for user_id, sealed in rows:
        try:
            secret = before.open_totp_secret(user_id, sealed)
        except (ConfigurationError, IntegrityError):
            broken.append(user_id)
            continue
        session.execute(
            update(User).where(User.id == user_id).values(totp_sealed=after.seal_totp_secret(user_id, secret))
        )
    if broken:
        _log.warning("two-factor secrets of accounts %s could not be re-sealed: enrol them again", broken)
    return len(rows) - len(broken), broken


def _private_databases(settings: Settings) -> None:
    """Create the workspace's own database files as 0600 before anything is written to them.

    The SQLite file (only when it lives in the workspace; an explicit URL elsewhere is the
    operator's) is created empty, which SQLite accepts as a new database; DuckDB refuses an empty
    file, so the analytics file is created by DuckDB itself and tightened at once, still inside
    the 0700 folder nobody else can enter.
    """
    sqlite_file = make_url(settings.database_url).database if settings.is_sqlite else None
    if sqlite_file and Path(sqlite_file).resolve().is_relative_to(settings.path):
        private_file(Path(sqlite_file))
    if not settings.analytics_file.exists():
        duckdb.connect(str(settings.analytics_file)).close()
    os.chmod(settings.analytics_file, PRIVATE_FILE_MODE)


def load_law() -> LawLibrary:
    """The law library: ``PALERMO_LAW_PATH`` (an office's own law root) or the packaged one."""
    root = os.environ.get("PALERMO_LAW_PATH")
    return LawLibrary.load(Path(root)) if root else default_library()


class LazyLaw:
    """Loads the law library on first use, so opening a workspace never waits on (or fails with) YAML."""

    def __init__(self, library: LawLibrary | None = None) -> None:
        self._library = library

    @property
    def library(self) -> LawLibrary:
        if self._library is None:
            self._library = load_law()
        return self._library

    def get(self, provision_id: str) -> Provision:
        return self.library.get(provision_id)


class Workspace:
    """A case workspace: folder + database + keys, with one service per domain noun."""

    def __init__(
        self,
        settings: Settings,
        *,
        law: LawLibrary | None = None,
        actor: str | None = None,
        _db: database.Database | None = None,
        _master: MasterKey | None = None,
    ) -> None:
        self.settings = settings
        self.path: Path = settings.path
        self._law = LazyLaw(law)
        self._db = _db or database.Database(settings.database_url)
        self._master = _master or MasterKey(read_master_key(settings.master_key_file))
        self._keyring = Keyring(self._master)
        self._audit_log = AuditLog()
        self.ctx = StoreContext(
            db=self._db,
            law=self._law,
            audit=self._audit_log,
            cipher=self._keyring,
            evidence_dir=settings.evidence_dir,
            actor=actor or default_actor(),
        )
        self.cases = CaseService(self.ctx)
        self.parties = PartyService(self.ctx)
        self.charges = ChargeService(self.ctx)
        self.evidence = EvidenceService(self.ctx)
        self.proof = ProofService(self.ctx)
        self.leads = LeadService(self.ctx)
        self.audit = AuditService(self.ctx, self._audit_log, self.path)
        self.keys = KeyService(self.ctx, self._keyring, settings.master_key_file)
        self._users: Any = None
        self._users_master: MasterKey | None = None

    @property
    def law(self) -> LawLibrary:
        """The law library (loaded on first use)."""
        return self._law.library

    @property
    def actor(self) -> str:
        return self.ctx.actor

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @classmethod
    def init(
        cls,
        path: Path,
        *,
        database_url: str | None = None,
        master_key_file: Path | None = None,
        actor: str | None = None,
        law: LawLibrary | None = None,
        require_second_factor: bool = False,
        require_export_recipient: bool = True,
    ) -> Workspace:
        """Create the workspace folder (or adopt an empty one), the master key if missing, and the schema.

        ``require_second_factor`` is written to ``settings.toml``: every sign-in then needs a TOTP code.
        ``require_export_recipient=False`` (the demo's synthetic workspace) lets exports leave without
        naming a recipient."""
        path = Path(path).expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise InputError(f"{path} exists and is not a folder", location="path")
        if (path / "settings.toml").exists():
            raise InputError(
                f"{path} is already a workspace (use it, or choose another folder)", location="path"
            )
        private_folder(path)
        settings = resolve(path, database_url=database_url, master_key_file=master_key_file)
        settings = replace(
            settings,
            require_second_factor=require_second_factor,
            require_export_recipient=require_export_recipient,
        )
        new_key = not settings.master_key_file.expanduser().exists()
        ensure_master_key(settings.master_key_file, workspace=path)
        if new_key:  # an older key without a list keeps none: its earlier shreds are unknown, and said so
            start_shred_list(settings.master_key_file)
        private_folder(settings.evidence_dir)
        write_settings(settings, record_database_url=database_url is not None)
        _private_databases(settings)
        db = database.Database(settings.database_url)
        database.upgrade(db.engine)
        workspace = cls(settings, actor=actor, law=law, _db=db)
        with workspace.ctx.db.transaction() as session:  # the key this workspace's keys will be under
            if _lock_master_state(session) is None:
                _record_master_state(session, workspace._keyring.master.key_id)
        return workspace

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        database_url: str | None = None,
        master_key_file: Path | None = None,
        actor: str | None = None,
        law: LawLibrary | None = None,
    ) -> Workspace:
        """Open an existing workspace folder, migrating its database to the newest schema first."""
        path = Path(path).expanduser().resolve()
        if not (path / "settings.toml").exists():
            raise InputError(
                f"{path} is not a Palermo workspace (run: palermo init {path})", location="workspace"
            )
        settings = resolve(path, database_url=database_url, master_key_file=master_key_file)
        db = database.Database(settings.database_url)
        database.upgrade(db.engine)
        workspace = cls(settings, actor=actor, law=law, _db=db)
        workspace.users.seal_plain_totp_secrets()  # revision 0005 cannot: it has no key
        return workspace

    def as_actor(self, actor: str) -> Workspace:
        """A view of this workspace acting as ``actor`` (shares database, keys and law)."""
        view = Workspace(
            self.settings, law=self._law._library, actor=actor, _db=self._db, _master=self._keyring.master
        )
        view._law = self._law
        return view

    @property
    def users(self) -> Any:
        """User accounts (``palermo.store.users.UserService``, written with the web app)."""
        if self._users is None:
            try:
                from palermo.store.users import UserService  # type: ignore[import-not-found,unused-ignore]
            except ImportError as exc:
                raise ConfigurationError("user accounts are not available in this build") from exc
            from palermo.security.auth import Authenticator

            self._users = UserService(
                self.ctx,
                Authenticator(master=self._keyring.master),
                require_second_factor=self.settings.require_second_factor,
                inactive_after=timedelta(days=self.settings.inactive_account_days),
            )
            self._users_master = self._keyring.master
        elif self._users_master is not None and self._users_master is not self._keyring.master:
            # the keys were re-wrapped under a new master key: seal and open with that one
            self._users = None
            return self.users
        return self._users

    @property
    def analytics(self) -> Analytics:
        """The investigative analytics front door (DuckDB at ``analytics.duckdb``)."""
        try:
            from palermo.analytics.service import Analytics
        except ImportError as exc:
            raise ConfigurationError(
                "analytics are not available in this build (palermo.analytics.service)"
            ) from exc
        return Analytics(self)

    def close(self) -> None:
        """Release database connections."""
        self._db.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
