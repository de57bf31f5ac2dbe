"""Who may do what: roles, permissions, and case membership (need to know).

Two independent gates decide every request, because a role alone says nothing about which cases a
person works on:

1. the **role** grants a set of :class:`Permission` values (an analyst may read analytics but not
   change charges; a viewer only reads);
2. **case membership** limits every case-level permission to the cases the person is a member of
   (CJIS AC-6 least privilege, ASVS V8.2.2 object-level authorisation). Administrators manage
   accounts but are not thereby members of cases.

Victim identity (legal name, date of birth, contact, address) is a separate permission,
``VICTIM_IDENTITY``, held only by prosecutors and victim advocates (ASVS V8.2.3 field-level
authorisation): everyone else sees victims by pseudonym only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from palermo.errors import AccessDenied, InputError


class Role(StrEnum):
    """The seven roles of DESIGN.md § 7."""

    ADMIN = "admin"
    PROSECUTOR = "prosecutor"
    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    VICTIM_ADVOCATE = "victim_advocate"
    LIAISON = "liaison"
    VIEWER = "viewer"


class Permission(StrEnum):
    """Actions the web app and API check before calling the Workspace."""

    CASE_READ = "case:read"
    CASE_CREATE = "case:create"
    CASE_WRITE = "case:write"
    EVIDENCE_WRITE = "evidence:write"
    PROOF_WRITE = "proof:write"
    LEAD_REVIEW = "lead:review"
    ANALYTICS_READ = "analytics:read"
    LAW_READ = "law:read"
    VICTIM_IDENTITY = "victim_identity:read"
    USER_ADMIN = "user:admin"


_READ = {Permission.CASE_READ, Permission.LAW_READ, Permission.ANALYTICS_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({Permission.USER_ADMIN, Permission.CASE_CREATE, Permission.LAW_READ}),
    Role.PROSECUTOR: frozenset(
        _READ
        | {
            Permission.CASE_CREATE,
            Permission.CASE_WRITE,
            Permission.EVIDENCE_WRITE,
            Permission.PROOF_WRITE,
            Permission.LEAD_REVIEW,
            Permission.VICTIM_IDENTITY,
        }
    ),
    Role.INVESTIGATOR: frozenset(
        _READ | {Permission.EVIDENCE_WRITE, Permission.PROOF_WRITE, Permission.LEAD_REVIEW}
    ),
    Role.ANALYST: frozenset(_READ | {Permission.LEAD_REVIEW}),
    Role.VICTIM_ADVOCATE: frozenset({Permission.CASE_READ, Permission.LAW_READ, Permission.VICTIM_IDENTITY}),
    Role.LIAISON: frozenset({Permission.CASE_READ, Permission.LAW_READ, Permission.EVIDENCE_WRITE}),
    Role.VIEWER: frozenset({Permission.CASE_READ, Permission.LAW_READ}),
}

CASE_SCOPED = frozenset(
    {
        Permission.CASE_READ,
        Permission.CASE_WRITE,
        Permission.EVIDENCE_WRITE,
        Permission.PROOF_WRITE,
        Permission.LEAD_REVIEW,
        Permission.ANALYTICS_READ,
        Permission.VICTIM_IDENTITY,
    }
)
"""Permissions that only ever apply inside a case the person is a member of."""


def parse_role(value: str) -> Role:
    """Turn user input into a Role, or raise InputError listing the valid roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise InputError(f"unknown role {value!r}; choose one of: {valid}", location="role") from None


@dataclass(frozen=True)
class Principal:
    """The signed-in person as the access rules see them: name, role and the cases they belong to."""

    user_id: int
    username: str
    role: Role
    case_refs: frozenset[str] = field(default_factory=frozenset)

    def has(self, permission: Permission) -> bool:
        """True when the role grants ``permission`` (membership is checked separately)."""
        return permission in ROLE_PERMISSIONS[self.role]

    def may(self, permission: Permission, case_ref: str | None = None) -> bool:
        """True when the role grants ``permission`` and, for case-level ones, the person is a member."""
        if not self.has(permission):
            return False
        if permission in CASE_SCOPED:
            return case_ref is not None and case_ref in self.case_refs
        return True

    def require(self, permission: Permission, case_ref: str | None = None) -> None:
        """Raise AccessDenied (naming the permission, never the data) unless :meth:`may` allows it."""
        if not self.may(permission, case_ref):
            where = f" on case {case_ref}" if case_ref else ""
            raise AccessDenied(f"{self.username} ({self.role.value}) lacks {permission.value}{where}")

    def visible_cases(self, case_refs: Iterable[str]) -> list[str]:
        """Filter case references down to those the person is a member of, keeping their order."""
        return [ref for ref in case_refs if ref in self.case_refs]
