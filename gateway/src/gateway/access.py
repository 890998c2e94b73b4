"""Who may see and do what, checked on the server for every object: pure rules over the account
and the owner of the object. Something out of reach is NotFound, never "forbidden": a facility
cannot even learn that another's shift exists."""

from __future__ import annotations

from vsm_rules.errors import NotFound, PermissionDenied

from gateway.accounts import Account, Role


def facility_in_reach(account: Account, facility_id: str, organization_id: str) -> None:
    """Staff of the organisation owning the facility, or an operator."""
    if account.is_operator:
        return
    if not (account.role.is_facility and account.organization_id == organization_id):
        raise NotFound(f"no facility {facility_id!r}")


def organization_in_reach(account: Account, organization_id: str) -> None:
    if account.is_operator:
        return
    if not (account.role.is_facility and account.organization_id == organization_id):
        raise NotFound(f"no organisation {organization_id!r}")


def organization_admin(account: Account, organization_id: str) -> None:
    """An organisation's admin (who invites staff and saves facilities), or an operator."""
    organization_in_reach(account, organization_id)
    if not (account.is_operator or account.role == Role.FACILITY_ADMIN):
        raise PermissionDenied("only the organisation's admin may do this")


def facility_role(account: Account) -> None:
    if not account.role.is_facility:
        raise PermissionDenied("only facility staff may do this")


def clinician_role(account: Account) -> None:
    if not account.is_clinician:
        raise PermissionDenied("only a clinician may do this")


def operator_role(account: Account) -> None:
    if not account.is_operator:
        raise PermissionDenied("only an operator may do this")


def clinician_in_reach(account: Account, clinician_id: str) -> None:
    """The clinician themselves, or an operator."""
    if not (account.is_operator or account.id == clinician_id):
        raise NotFound(f"no clinician {clinician_id!r}")
