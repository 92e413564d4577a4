"""Every service the app registers provides its interface, method by method (zope.interface's
verifyObject): a class whose methods drift from what callers are promised fails here, not in
the caller that relied on it."""

from __future__ import annotations

import pytest
from pyramid.scripting import prepare
from zope.interface import Interface
from zope.interface.verify import verifyObject

from archive_app import interfaces
from archive_app.interfaces import IAccountService, ICredentials, IRecordsService

# Built over the request's session: verified through a prepared request.
PER_REQUEST = [IAccountService, ICredentials, IRecordsService]
PROCESS_WIDE = [
    value
    for value in vars(interfaces).values()
    if isinstance(value, type(Interface)) and value is not Interface and value not in PER_REQUEST
]


def test_the_interfaces_declare_their_methods():
    assert len(PROCESS_WIDE) >= 12
    for iface in [*PROCESS_WIDE, *PER_REQUEST]:
        assert list(iface.names()), f"{iface.__name__} declares nothing"


@pytest.mark.parametrize("iface", PROCESS_WIDE, ids=lambda iface: iface.__name__)
def test_each_process_wide_service_provides_its_interface_and_is_found_one_way(wsgi_app, iface):
    service = wsgi_app.registry.getUtility(iface)
    assert verifyObject(iface, service)
    with prepare(registry=wsgi_app.registry) as env:
        # A request finds the very object the registry holds.
        assert env["request"].find_service(iface) is service


@pytest.mark.parametrize("iface", PER_REQUEST, ids=lambda iface: iface.__name__)
def test_each_per_request_service_provides_its_interface(wsgi_app, iface):
    with prepare(registry=wsgi_app.registry) as env:
        assert verifyObject(iface, env["request"].find_service(iface))
