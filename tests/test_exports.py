"""`specproof exports`' quick read of a spec's identity agrees with the full loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from specproof.adapter.specindex import SpecIndex
from specproof.exports import IDENTITY, exported_functions
from specproof.spec.yamlio import SpecFileError, load_spec, read_identity

ROOT = Path(__file__).resolve().parents[1]


def identity(path: Path) -> dict[str, str]:
    return read_identity(path, IDENTITY)


@pytest.mark.parametrize("path", sorted((ROOT / "specs").glob("*/*.yaml")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_identity_matches_the_loaded_spec(path: Path):
    spec = load_spec(path)
    fields = identity(path)
    assert fields["api"] == spec.api and fields["mode"] == spec.mode
    assert fields.get("dll") == spec.dll and fields.get("library") == spec.library


def test_key_order_and_nested_values_do_not_matter(tmp_path: Path):
    source = (ROOT / "specs" / "sspi" / "DeleteSecurityContext.yaml").read_text()
    head, _, rest = source.partition("dll: Secur32.dll\nmode: user\n")
    moved = tmp_path / "sspi" / "DeleteSecurityContext.yaml"
    moved.parent.mkdir()
    moved.write_text(head + rest + "mode: user\ndll: Secur32.dll\n")  # the two keys last, after every section
    assert identity(moved) == identity(ROOT / "specs" / "sspi" / "DeleteSecurityContext.yaml")
    assert list(exported_functions(tmp_path)) == [("sspi", "DeleteSecurityContext", "Secur32.dll", "user", False)]
    assert SpecIndex.module_of(load_spec(moved)) == "Secur32.dll"


def test_a_broken_spec_is_named(tmp_path: Path):
    bad = tmp_path / "sspi" / "Broken.yaml"
    bad.parent.mkdir()
    bad.write_text("spec: 1\napi: [unclosed\n")
    with pytest.raises(SpecFileError, match="Broken.yaml"):
        list(exported_functions(tmp_path))
