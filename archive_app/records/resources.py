"""Route-factory contexts for dossiers: their ACL needs the role AND enough clearance."""

from __future__ import annotations

from pyramid.authorization import DENY_ALL, Allow

from ..access.permissions import DOSSIER_PERMISSIONS, ROLE_PERMISSIONS, level_rank
from ..access.principals import cleared_principal, role_principal
from ..interfaces import IRecordsService


class DossierContext:
    """One dossier (or none, for an unknown id) looked up from the `dossier_id` match."""

    def __init__(self, request, dossier=None):
        self.request = request
        self.dossier = dossier

    @classmethod
    def from_route(cls, request) -> DossierContext:
        dossier_id = request.matchdict.get("dossier_id", "")
        return cls(request, request.find_service(IRecordsService).get(dossier_id))

    @property
    def level(self) -> str | None:
        return self.dossier.confidentiality if self.dossier is not None else None

    def __acl__(self):
        acl = []
        for role, permissions in ROLE_PERMISSIONS.items():
            for permission in sorted(permissions):
                if permission in DOSSIER_PERMISSIONS and self.dossier is not None:
                    # Only callers whose clearance reaches the dossier's level.
                    principal = cleared_principal(role, self.dossier.confidentiality)
                else:
                    # Unknown ids: the role decides (403 for non-readers, 404 for readers).
                    principal = role_principal(role)
                acl.append((Allow, principal, str(permission)))
        acl.append(DENY_ALL)
        return acl

    def hides_existence_from(self, request, permission) -> bool:
        """True when the role may do this but the clearance is too low: answer 404, not 403."""
        user = request.user
        if self.dossier is None or user is None:
            return False
        return permission in ROLE_PERMISSIONS.get(user.role, ()) and level_rank(
            user.clearance
        ) < level_rank(self.dossier.confidentiality)
