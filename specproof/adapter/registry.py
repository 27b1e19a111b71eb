"""Finding adapters: the entry-point group `specproof.adapters`.

A third party's adapter is a separate distribution that registers a factory
(usually its adapter class) in that group; nothing here lists adapters by
name. For quick experiments an adapter can also be named as
`package.module:Class` without registering it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points

from .contract import Adapter, Availability

GROUP = "specproof.adapters"
#: The adapter used when none is named and no other usable adapter is installed.
DEFAULT = "model"


class AdapterNotFound(LookupError):
    """An adapter name that no installed distribution registers."""


@dataclass(frozen=True)
class Installed:
    """One adapter as installed: its name, where it comes from and whether it can run here."""

    name: str
    target: str
    distribution: str
    availability: Availability
    #: The adapter reaches an implementation only once told where (`--url`, `--host`): never a default.
    needs_endpoint: bool = False


def _entry_points() -> dict:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def _check(factory: object) -> Availability:
    check = getattr(factory, "availability", None)
    if check is None:
        return Availability(True)
    try:
        return check()
    except Exception as error:  # an adapter's own check must not break the listing
        return Availability(False, f"its availability check failed: {error!r}", "report this to the adapter's authors")


def installed() -> list[Installed]:
    """Every registered adapter with its availability on this machine, sorted by name."""
    found = []
    for name, ep in sorted(_entry_points().items()):
        dist = ep.dist.name if ep.dist else "?"
        try:
            factory = ep.load()
        except Exception as error:
            found.append(Installed(name, ep.value, dist, Availability(
                False, f"cannot import {ep.value}: {error}", f"reinstall {dist}")))
            continue
        found.append(Installed(name, ep.value, dist, _check(factory), bool(getattr(factory, "needs_endpoint", False))))
    return found


def factory(name: str):
    """The factory for `name` (a registered name or `module:attr`)."""
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as error:
            raise AdapterNotFound(f"cannot load adapter {name!r}: {error}") from error
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise AdapterNotFound(
            f"no adapter named {name!r} is installed (installed: {known}); "
            f"run `specproof adapters` to list them, or name one as package.module:Class")
    return eps[name].load()


def choose_default() -> str:
    """A usable adapter other than the model if one is installed (and needs no endpoint named), else the model."""
    others = [a.name for a in installed() if a.name != DEFAULT and a.availability.usable and not a.needs_endpoint]
    return others[0] if others else DEFAULT


def impl_label(adapter: str | None, impl: str | None = None) -> str:
    """The implementation's label in run ids, results and expectation files.

    `--impl` when given, else the adapter's name (the class name, lower case,
    for `module:Class`), else the adapter a run would choose by default.
    """
    if impl:
        return impl
    return (adapter or choose_default()).rsplit(":", 1)[-1].lower()


def resume_command(adapter: str, impl: str | None, run_id: str) -> str:
    """The command that finishes an interrupted run, as a user types it (`--impl` only when not the default)."""
    label = f" --impl {impl}" if impl and impl != impl_label(adapter) else ""
    return f"specproof run --adapter {adapter}{label} --resume {run_id}"


def create(name: str, **options: str) -> Adapter:
    """A new adapter instance; raises AdapterNotFound or RuntimeError (unusable, with the fix)."""
    made = factory(name)
    availability = _check(made)
    if not availability.usable:
        fix = f" To fix: {availability.fix}" if availability.fix else ""
        raise RuntimeError(f"adapter {name!r} cannot run on this machine: {availability.reason}.{fix}")
    return made(**options)
