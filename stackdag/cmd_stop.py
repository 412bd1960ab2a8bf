"""``stackdag stop SERVICE...`` / ``doit stop``: services.stop, for each one named."""

from __future__ import annotations

from stackdag import services
from stackdag.cmd_base import ServiceCommand


class Stop(ServiceCommand):
    name = "stop"
    doc_purpose = "stop services; the next `stack` starts them again"
    doc_description = ("Stops each named service's process group (TERM, then KILL), with no "
                       "hook run. The service stays recorded: `status` shows it as not "
                       "running, `start` starts it, and the next `stack` re-runs the step that "
                       "started it.")
    act = staticmethod(services.stop)
