"""Service managers for the tests: a fake ``systemctl`` and the machine's own ``service``
over init scripts of a test's own.

The fake systemctl (put first on PATH, with STACKDAG_SYSTEMD=yes) keeps a log of every
call, reads the unit files where the runtime wrote them, and really runs a unit's
ExecStart (with its Environment) in a session of its own, as systemd does; its main pid
answers ``show``, ``is-active`` and ``stop`` (KillMode=process: only the main process).

``service`` runs /etc/init.d/NAME, which a test must not create on the machine: the
commands run in a private mount namespace where a directory of the test's own is
mounted over /etc/init.d (:func:`with_init_scripts`), so the real ``service`` runs the
test's real script.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import pytest

FAKE_SYSTEMCTL = r"""#!/bin/bash
# A fake systemctl: FAKE_SYSTEMD_DIR holds the unit files, FAKE_SYSTEMCTL_STATE its state
# (actions.log, each unit's main pid, enabled units, each unit's output).
state=${FAKE_SYSTEMCTL_STATE:?} units=${FAKE_SYSTEMD_DIR:?}
mkdir -p "$state/main" "$state/enabled" "$state/journal"
echo "$*" >> "$state/actions.log"
args=() props=() quiet=""
while (($#)); do
    case $1 in
        --user|--no-pager|--value) shift ;;
        --quiet|-q) quiet=1; shift ;;
        -p) props+=("$2"); shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
cmd=${args[0]:-} unit=${args[1]:-}
[[ -z $unit || $unit == *.* ]] || unit=$unit.service

main() {    # the unit's main pid, while it runs
    local pid stat
    read -r pid < "$state/main/$unit" 2>/dev/null || return 1
    read -r stat < "/proc/$pid/stat" 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != [ZX] ]] && echo "$pid"
}

start() {
    main >/dev/null && return 0
    local file=$units/$unit line key value exec="" envs=()
    [[ -f $file ]] || { echo "Failed to start $unit: Unit $unit not found." >&2; return 5; }
    while IFS= read -r line; do
        [[ $line =~ ^([A-Za-z]+)\ =\ (.*)$ ]] || continue
        key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
        case $key in
            Environment) eval "envs+=($value)" ;;
            ExecStart) exec=$value ;;
        esac
    done < "$file"
    exec=${exec//\$\$/\\\$}     # systemd's $$ is a $ that nothing expands
    exec=${exec//%%/%}
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
        done
        eval "set -- $exec"
        exec setsid env -i "${envs[@]}" "$@"
    ) < /dev/null >> "$state/journal/$unit" 2>&1 &
    echo $! > "$state/main/$unit"
}

stop() {
    local pid tries=0
    pid=$(main) || return 0
    kill -TERM "$pid"
    while main >/dev/null && ((tries++ < 100)); do sleep 0.05; done
    rm -f "$state/main/$unit"
}

case $cmd in
    daemon-reload) ;;
    enable) touch "$state/enabled/$unit" ;;
    disable) rm -f "$state/enabled/$unit" ;;
    is-enabled) [[ -e $state/enabled/$unit ]] ;;
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    reload-or-restart) if pid=$(main); then kill -HUP "$pid"; else start; fi ;;
    is-active|status)
        if main >/dev/null; then
            [[ -n $quiet ]] || echo active
        else
            [[ -n $quiet ]] || echo inactive
            exit 3
        fi ;;
    show)
        for prop in "${props[@]}"; do
            case $prop in
                MainPID) echo "MainPID=$(main || echo 0)" ;;
                ControlGroup) echo "ControlGroup=" ;;
            esac
        done ;;
    *) echo "fake systemctl: $cmd is not faked" >&2; exit 1 ;;
esac
"""


class FakeSystemd:
    """The fake systemctl's bin directory, its units directory, and what it did."""

    def __init__(self, root: Path):
        self.bin = root / "fake-bin"
        self.units = root / "units"
        self.state = root / "systemctl"
        for folder in (self.bin, self.units, self.state):
            folder.mkdir(parents=True)
        (self.bin / "systemctl").write_text(FAKE_SYSTEMCTL)
        (self.bin / "systemctl").chmod(0o755)

    def env(self) -> dict[str, str]:
        """What a stackdag command needs in its environment to use it."""
        return {"PATH": f"{self.bin}:{os.environ['PATH']}", "STACKDAG_SYSTEMD": "yes",
                "FAKE_SYSTEMD_DIR": str(self.units), "FAKE_SYSTEMCTL_STATE": str(self.state)}

    def actions(self) -> list[str]:
        log = self.state / "actions.log"
        return log.read_text().splitlines() if log.exists() else []

    def main_pid(self, unit: str) -> int | None:
        path = self.state / "main" / unit
        return int(path.read_text()) if path.exists() else None

    def journal(self, unit: str) -> str:
        path = self.state / "journal" / unit
        return path.read_text() if path.exists() else ""

    def stop_all(self) -> None:
        """What a failed test left running."""
        for main in (self.state / "main").glob("*"):
            try:
                os.killpg(int(main.read_text()), 9)
            except (ProcessLookupError, ValueError, PermissionError):
                pass


def init_script(daemon_pidfile: Path, extra: str = "") -> str:
    """A tiny LSB-style init script: ``start`` leaves a daemon (a `sleep`, in a session of
    its own, reparented to init once the script ends) whose pid it keeps in
    ``daemon_pidfile``; ``stop``, ``restart``, ``reload`` and ``status`` as usual.
    ``extra`` runs first (a trace line, say)."""
    return f"""#!/bin/sh
PIDFILE={daemon_pidfile}
{extra}
# running, and not a zombie (a container's PID 1 may be slow to reap what it inherits)
running() {{ [ -f "$PIDFILE" ] && ! grep -qs ') Z' "/proc/$(cat "$PIDFILE")/stat" \
             && [ -e "/proc/$(cat "$PIDFILE")" ]; }}
case "$1" in
    start) running || {{ setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $! > "$PIDFILE"; }} ;;
    stop) if running; then kill "$(cat "$PIDFILE")"; fi
          while running; do sleep 0.05; done; rm -f "$PIDFILE" ;;
    restart) "$0" stop && "$0" start ;;
    reload) running ;;
    status) running ;;
    *) exit 3 ;;
esac
"""


def with_init_scripts(folder: Path, units: Path | None = None) -> list[str]:
    """A command prefix that runs the command in a private mount namespace where
    ``folder`` is /etc/init.d (so `service NAME` runs the test's own scripts), and
    ``units`` /lib/systemd/system (the packages' unit files); skips where this session
    cannot make one."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("service"):
        pytest.skip("needs root, unshare and service(8)")
    if os.path.isdir("/run/systemd/system"):
        pytest.skip("PID 1 is systemd here: service(8) would ask systemctl")
    mounts = 'mount --bind "$0" /etc/init.d'
    if units:
        mounts += f" && mount --bind {shlex.quote(str(units))} /lib/systemd/system"
    return ["unshare", "--mount", "--propagation", "private", "bash", "-c",
            f'{mounts} && exec "$@"', str(folder)]
