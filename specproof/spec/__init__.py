"""The spec stage: the model, its YAML form, its JSON Schema and the linter."""

from .model import Case, Clause, Param, Requirements, ReturnCode, Returns, Signature, Source, Spec, header_stem
from .yamlio import SpecFileError, dump_spec, load_spec

__all__ = [
    "Case", "Clause", "Param", "Requirements", "ReturnCode", "Returns", "Signature", "Source", "Spec",
    "SpecFileError", "dump_spec", "header_stem", "load_spec",
]
