"""stackdag: DevStack-style plugins run as an incremental, resumable doit DAG."""

__version__ = "0.1.0"
