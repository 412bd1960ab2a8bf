"""``stackdag restart SERVICE...`` / ``doit restart``: services.restart, for each one named."""

from __future__ import annotations

from stackdag import services
from stackdag.cmd_base import ServiceCommand


class Restart(ServiceCommand):
    name = "restart"
    doc_purpose = "stop and start services from the commands run_process started them with"
    doc_description = ("Stops each named service (TERM, then KILL) and starts it again from "
                       "the command, directory, user and environment run_process recorded, "
                       "with no hook run; its log is appended to.")
    act = staticmethod(services.restart)
