"""Route-factory contexts that carry ACLs for the parts of the archive that are not dossiers."""

from __future__ import annotations

from pyramid.authorization import DENY_ALL, Allow

from .permissions import ROLE_PERMISSIONS
from .principals import role_principal


def role_acl():
    """The role matrix alone, for collections and pages not tied to one dossier."""
    acl = [
        (Allow, role_principal(role), str(permission))
        for role, permissions in ROLE_PERMISSIONS.items()
        for permission in sorted(permissions)
    ]
    acl.append(DENY_ALL)
    return acl


class RoleContext:
    """A context whose ACL is the role matrix (search, access log, retention, users)."""

    def __init__(self, request=None):
        self.request = request

    def __acl__(self):
        return role_acl()
