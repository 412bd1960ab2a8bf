"""``doit unstack`` / ``stackdag unstack``: the unstack hooks, then every leftover service."""

from __future__ import annotations

import time

from doit.cmd_base import DoitCmdBase

from stackdag import teardown
from stackdag.cmd_base import StackdagCommand, locked_workspace, stop_services_if_unloadable


class Unstack(StackdagCommand, DoitCmdBase):
    """DevStack's unstack order; then stackdag stops what is still recorded as running."""

    name = "unstack"
    takes_arguments = False
    doc_purpose = "run the unstack hooks and stop every service stackdag started"
    doc_usage = "[--all]"
    doc_description = ("Runs override_defaults, the settings, `unstack` for extras.d hooks "
                       "then plugins, and stop_nova_hypervisor; then stops every service "
                       "still recorded by run_process. A failing hook is reported and the "
                       "rest goes on. The tasks that started services are forgotten, so "
                       "the next `doit stack` starts them again. The distribution's "
                       "services the steps started (the database, the queue, apache...) "
                       "keep running, as unstack.sh leaves them, unless --all (unstack.sh "
                       "-a, or UNSTACK_ALL in the environment). A service that could not "
                       "be stopped is named, stays recorded, and the command fails.")
    cmd_options = ({"name": "everything", "short": "a", "long": "all", "type": bool,
                    "default": False,
                    "help": "also stop the distribution's services the steps started "
                            "(UNSTACK_ALL)"},)

    def execute(self, params, args):
        return stop_services_if_unloadable(self, super().execute, params, args)

    def _execute(self, everything=False, pos_args=None):
        self.loaded = True
        ws, run = locked_workspace(self.task_list, "unstack")
        started = time.monotonic()
        try:
            forget, failures = teardown.unstack(ws, run, everything)
            for name in forget:
                self.dep_manager.remove(name)
        finally:
            self.dep_manager.close()
        return teardown.summary("unstack", failures, started)
