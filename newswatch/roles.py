"""The four pipeline roles and where each one's service class lives.

``newswatch run`` starts every role that is available in one process; ``newswatch <role>``
starts one. A role whose package is not installed (or has not landed) is reported as such.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from newswatch.errors import NotAvailableError
from newswatch.runtime import Service, ServiceContext

__all__ = ["ROLES", "Role", "load_role"]


@dataclass(frozen=True)
class Role:
    name: str
    target: str  # "module:ClassName"
    summary: str


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role("fetcher", "services.fetcher.service:FetcherService", "poll feeds, publish new items"),
        Role(
            "extractor",
            "services.extractor.service:ExtractorService",
            "download pages, extract text, tag events",
        ),
        Role("indexer", "services.indexer.service:IndexerService", "index articles for search"),
        # A factory: the plain consumer, or the faust app on Kafka (alerter.engine).
        Role("alerter", "services.alerter.engine:alerter_service", "match subscriptions, deliver"),
    )
}


def load_role(name: str) -> Callable[[ServiceContext], Service]:
    """The service class (or factory) of ``name``, or ``NotAvailableError`` saying why it cannot
    run."""
    role = ROLES[name]
    module_name, _, attr = role.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise NotAvailableError(f"the {name} service has not landed yet") from exc
        raise NotAvailableError(
            f"the {name} service needs {exc.name!r}: run 'make install'"
        ) from exc
    cls = getattr(module, attr, None)
    if cls is None:
        raise NotAvailableError(f"the {name} service has not landed yet ({role.target} missing)")
    return cls


def build_service(name: str, ctx: ServiceContext) -> Service:
    return load_role(name)(ctx)
