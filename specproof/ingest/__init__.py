"""The ingest stage: pages in, spec files out (see pipeline.py)."""

from .pipeline import IngestReport, collect, ingest, spec_path

__all__ = ["IngestReport", "collect", "ingest", "spec_path"]
