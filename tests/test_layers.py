"""The stages' layers, held against the code: which package may import which.

Every import in the kit's source (at any place in a module, lazy ones too)
is resolved to the module it names, and checked against the contracts
below. A stage that reaches around another fails here, naming the file,
the line and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "specproof"

# (packages the contract is about, packages they must not import, why)
CONTRACTS = [
    (("specproof.readers", "specproof.spec", "specproof.sdk"),
     ("specproof.adapter", "specproof.plugin", "specproof.runner", "specproof.site", "specproof.generate",
      "specproof.ingest", "specproof.derive", "specproof.cli"),
     "reading pages and holding specs knows nothing of running or publishing"),
    (("specproof.site", "specproof.runner", "specproof.results", "specproof.exports"),
     ("specproof.plugin",),
     "the pytest plugin is one user of the results format, not its owner"),
    (("specproof.results",),
     ("specproof.adapter", "specproof.site", "specproof.runner", "specproof.generate", "specproof.ingest"),
     "the results format depends on no stage"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in the file (named `module`), relative ones resolved."""
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def _inside(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("owners, forbidden, why", CONTRACTS, ids=[c[2] for c in CONTRACTS])
def test_layers(owners, forbidden, why):
    broken = []
    for path in sorted(KIT.rglob("*.py")):
        if not _inside(_module_name(path), owners):
            continue
        for line, target in _imports(path):
            if _inside(target, forbidden):
                broken.append(f"{path.relative_to(ROOT)}:{line}: imports {target}")
    assert broken == [], f"{why}:\n" + "\n".join(broken)


def test_the_import_reader_sees_relative_and_lazy_imports(tmp_path):
    """The check above can fail: a lazy relative import of the plugin is found where it stands."""
    sample = tmp_path / "probe.py"
    sample.write_text("def later():\n    from ..plugin import hooks\n    import specproof.runner\n")
    found = _imports(sample, "specproof.site.probe")
    assert (2, "specproof.plugin") in found and (3, "specproof.runner") in found
    assert _inside("specproof.plugin.hooks", ("specproof.plugin",))


# the modules that own a YAML format, each its own: specs, page front matter, the fixture catalog, expectations
YAML_OWNERS = {"specproof.spec.yamlio", "specproof.readers.frontmatter", "specproof.derive.catalog",
               "specproof.plugin.expectations"}


def test_every_format_has_one_owner():
    """Spec files are listed, read and parsed by spec/yamlio alone; no other module parses YAML but its format's owner."""
    strays = []
    for path in sorted(KIT.rglob("*.py")):
        module = _module_name(path)
        text = path.read_text(encoding="utf-8")
        if module not in YAML_OWNERS and any(target == "yaml" or target.startswith("yaml.")
                                             for _, target in _imports(path)):
            strays.append(f"{path.relative_to(ROOT)}: parses YAML")
        if module != "specproof.spec.yamlio" and ('glob("*/*.yaml")' in text or 'rglob("*.yaml")' in text):
            strays.append(f"{path.relative_to(ROOT)}: lists spec files itself")
    assert strays == []
