"""Specs by function name, loaded on first use.

A test touches a handful of functions; a spec set may hold ten thousand.
The index lists file names once (a spec's file is named for its function,
`_BitTest64~r1.yaml` for a name the docs repeat) and loads a spec only when
a call needs it.
"""

from __future__ import annotations

from pathlib import Path

from ..spec.model import Spec, function_of_stem, header_stem
from ..spec.yamlio import iter_spec_files, read_spec
from .kernelmode import kernel_module


class SpecNotFound(LookupError):
    """A call named a function that has no spec."""


class SpecIndex:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[str, list[Path]] | None = None
        self._loaded: dict[Path, Spec] = {}

    def _index(self) -> dict[str, list[Path]]:
        if self._paths is None:
            paths: dict[str, list[Path]] = {}
            for path in iter_spec_files(self.root):
                paths.setdefault(function_of_stem(path.stem), []).append(path)
            self._paths = paths
        return self._paths

    def names(self) -> list[str]:
        return sorted(self._index())

    def get(self, function: str, header: str | None = None) -> Spec:
        """The spec of `function`; with two specs of one name, the one under `header` wins."""
        paths = self._index().get(function)
        if not paths:
            raise SpecNotFound(f"no spec for {function} under {self.root}; "
                               f"ingest its page or add specs/<header>/{function}.yaml")
        path = paths[0]
        if header and len(paths) > 1:
            stem = header_stem(header)
            path = next((p for p in paths if p.parent.name == stem), paths[0])
        return self._load(path)

    def _load(self, path: Path) -> Spec:
        spec = self._loaded.get(path)
        if spec is None:
            spec = self._loaded[path] = read_spec(path)
        return spec

    def modules(self, function: str) -> tuple[str, ...]:
        """Every module a spec of `function` names (one function may have specs in two headers)."""
        found = []
        for path in self._index().get(function, []):
            module = self.module_of(self._load(path))
            if module and module not in found:
                found.append(module)
        return tuple(found)

    @staticmethod
    def module_of(spec: Spec) -> str | None:
        """The module that exports the function: the DLL, else (kernel mode) the module its library or header
        stands for."""
        return module_of(spec.dll, spec.library, spec.mode, spec.header)


def module_of(dll: str | None, library: str | None, mode: str | None, header: str | None = None) -> str | None:
    """The module named by a spec's dll (first of several), else in kernel mode the one its import library
    stands for (NtosKrnl.lib → ntoskrnl.exe, Ndis.lib → ndis.sys), else its header's (sspi.h → ksecdd.sys)."""
    if dll:
        return dll.split()[0].strip(";,")
    if mode == "kernel":
        return kernel_module(library, header)
    return None
