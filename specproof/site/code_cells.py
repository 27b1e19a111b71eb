"""How a documented return code reads on a page, and whether an observed value is that code."""

from __future__ import annotations

from ..spec.model import ReturnCode, Spec
from .findings import Observation


def code_label(code: ReturnCode) -> str:
    if code.name:
        return code.name
    if code.family:
        return code.family + (" (any other)" if code.open else "")
    return code.label or "?"


def code_value(code: ReturnCode) -> str:
    if code.value is not None:
        return f"0x{code.value:08X}"
    if code.range:
        return f"0x{code.range[0]:08X}–0x{code.range[1]:08X}"
    return "unresolved" if code.unresolved else ""


def matches(spec: Spec, code: ReturnCode, observation: Observation) -> bool:
    """Whether an observed value is this documented code, by the rule the run judged it by
    (`Returns.match`: the code that names it, else the open family or condition row for the rest)."""
    value = observation.observed.value
    try:
        number = int(value, 16) if value else None
    except ValueError:
        number = None
    return spec.returns.match(number, observation.observed.name, observation.phase) is code
