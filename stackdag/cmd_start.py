"""``stackdag start SERVICE...`` / ``doit start``: services.start, for each one named."""

from __future__ import annotations

from stackdag import services
from stackdag.cmd_base import ServiceCommand


class Start(ServiceCommand):
    name = "start"
    doc_purpose = "start stopped services from the commands run_process started them with"
    doc_description = ("Starts each named service that is not running from the command, "
                       "directory, user and environment run_process recorded, with no hook "
                       "run; a new pidfile, its log appended.")
    act = staticmethod(services.start)
