"""The ingest stage: pages in, spec files out (see pipeline.py)."""

from .collect import collect
from .page import spec_path
from .pipeline import IngestReport, ingest

__all__ = ["IngestReport", "collect", "ingest", "spec_path"]
