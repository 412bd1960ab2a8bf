"""stackdag: DevStack-style plugins run as an incremental, resumable doit DAG."""

__version__ = "0.1.0"

STACK_TASK = "stack"   # the doit task (and command) that brings the whole stack up
