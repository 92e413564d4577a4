"""How a feature's includeme registers a process-wide object, so that it is found one way.

`config.register_process_service(obj, IThing)` registers it with pyramid_services
(`request.find_service(IThing)` in a request) and as a utility at once, so that the includes
that follow and the commands (`registry.getUtility(IThing)`) find the same object before
pyramid_services' registrations are committed.
"""

from __future__ import annotations


def register_process_service(config, service, iface) -> None:
    config.registry.registerUtility(service, iface)
    config.register_service(service, iface)


def includeme(config):
    config.include("pyramid_services")
    config.add_directive("register_process_service", register_process_service)
