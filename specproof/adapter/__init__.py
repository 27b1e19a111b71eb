"""Adapters: the contract every implementation offers, the registry, and calls by name."""

from .contract import (ACCESS_VIOLATION, UNIMPLEMENTED_STUB, Adapter, Availability, CallResult, Export, Fault,
                       Info)
from .registry import AdapterNotFound, create, installed

__all__ = ["ACCESS_VIOLATION", "UNIMPLEMENTED_STUB", "Adapter", "AdapterNotFound", "Availability", "CallResult",
           "Export", "Fault", "Info", "create", "installed"]
