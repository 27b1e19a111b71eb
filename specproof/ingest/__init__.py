"""The ingest stage: pages in, spec files out (see pipeline.py)."""

from .collect import collect
from .pipeline import IngestReport, ingest, spec_path

__all__ = ["IngestReport", "collect", "ingest", "spec_path"]
