"""The protocol between stackdag (driver.py) and its step driver (runtime/driver.sh).

Both sides point here; the words below are the whole of it.

The request. stackdag writes a step's request into the driver's request file (its path in
``_SD_REQUEST``), in place: the fields of :class:`Request`, in that order, each ending
in a NUL, then the hook's arguments; what follows them in the file is stale. Then it
writes the number of fields and arguments on a line of the driver's stdin. The fields'
variable names (:func:`field_names`) are given to the driver once, in its environment
(``_SD_REQUEST_FIELDS``); driver.sh assigns each field to its variable, which the hook
sees. runsetup.py fills the fields: a new field is added to :class:`Request` and given
its value there, nowhere else.

Answers, on the driver's stdout, one per line:

- ``started PID``: the step's child (leader of its own process group) took the request;
- ``ran STATUS``: the hook ran to its end with STATUS; the child now saves the state, and
  stackdag does its own work for the step meanwhile (driver.py: ``settle``);
- ``done STATUS SAVED``: the child ended, with STATUS as bash's ``wait`` gives it (128+N
  when killed by signal N); SAVED says how the state was saved: ``same`` (nothing changed,
  no file written), ``written``, or empty (not saved). A hook that ended the child
  (``exit``) gets ``done`` without ``ran``;
- ``restart`` instead of ``started``: this driver cannot serve the request (it could not
  go back to a fresh step's state); stackdag starts another one.

End of stdin ends the driver.

Inside the driver, a child says its last word in the word file (``_SD_WORD_FD``): its pid,
then ``end`` (no more requests), ``serve COUNT`` (the request is for another state than the
driver holds: the driver restores that one and serves the request itself), or the SAVED
word and what the driver needs to hold the step's state. A driver killed while its child
saves leaves that word for stackdag (driver.py: ``_orphan_end``).
"""

from __future__ import annotations

from typing import NamedTuple

# driver -> stackdag (stdout)
STARTED = "started"
RAN = "ran"
DONE = "done"
RESTART = "restart"

# how the state was saved (``done``'s SAVED, and a child's last word)
SAME = "same"
WRITTEN = "written"


class Request(NamedTuple):
    """A step's request, in order; each field reaches the step's shell as ``_SD_<NAME>``
    (``step`` as ``_SD_STEP``)."""

    step: str           # the task's name
    summary: str        # a line for the log's head
    log: str            # the step's log file
    action: str         # how the hook is run: source, stage, localrc, call, exec, merge,
                        # packages (driver.sh's case)
    file: str           # the hook's file
    calls: str          # call: the functions to call, blank-separated
    hook: str           # the hook, in words (for messages)
    mode: str           # mode, phase, plugin, dir: what a sourced hook sees (DevStack's
    phase: str          # run_phase gives them)
    plugin: str
    plugin_dir: str
    if_enabled: str     # a service: the step is skipped unless it is enabled
    errexit: str        # "1": the hook runs under errexit (not unstack's and clean's)
    state_in: str       # the saved state the step starts from ("": a fresh one)
    state_deltas: str   # ...and the deltas on top of it, one per line
    state_key: str      # the step's own state file, once saved
    state_out: str      # where the child writes the full state
    delta_out: str      # ...and the delta
    records: str        # record mode: the step's records file (STACKDAG_RECORDS)


def field_names(request: type = Request) -> list[str]:
    """The shell variables of a request's fields, in order (driver.sh's _SD_FIELDS)."""
    return ["_SD_" + name.upper() for name in request._fields]
