#!/bin/bash
# Long-running services: run_process and friends. Sourced by functions.sh.
#
# Differs from DevStack: a service is a plain process group recorded in
# $STACKDAG_PIDS_DIR/NAME.pid and logging to $STACKDAG_LOG_DIR/NAME.log,
# not a systemd unit; CMD may be any shell command (DevStack wanted an absolute path
# without sudo); and run_process on a running service restarts it (systemctl start left
# the old process running).

# _sd_service_name NAME: die unless NAME is usable as a file name.
function _sd_service_name {
    [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$ ]] \
        || _sd_fail 1 "${FUNCNAME[1]}: bad service name '$1'"
}

# _sd_start_id PID: _SD_START_ID = "BOOT_ID:START_TICKS" of process PID (the boot and the
# moment it started: unique across reboots and pid reuse); false if there is no such process
# or no /proc to ask.
function _sd_start_id {
    _SD_START_ID=""
    local boot stat
    { read -r boot < /proc/sys/kernel/random/boot_id && read -r stat < "/proc/$1/stat"; } \
        2>/dev/null || return 1
    stat=${stat##*) }
    local -a fields
    read -r -a fields <<< "$stat"
    _SD_START_ID=$boot:${fields[19]}
}

# _sd_pid_of NAME: _SD_PID = the process group recorded for NAME; false if there is none
# (or it is not a usable group: never 0, 1, or this shell's own group), or if the group's
# leader pid now belongs to another process than the one run_process started (a reboot or
# pid reuse), so that nothing unrelated is ever stopped.
function _sd_pid_of {
    _SD_PID=""
    local file=$STACKDAG_PIDS_DIR/$1.pid stat step started=""
    [[ -r $file ]] || return 1
    { read -r _SD_PID && read -r step && read -r started; } < "$file" || [[ -n $_SD_PID ]] \
        || return 1
    if [[ ! $_SD_PID =~ ^[0-9]+$ ]] || ((_SD_PID <= 1)); then
        _SD_PID=""
        return 1
    fi
    if { read -r stat < "/proc/$BASHPID/stat"; } 2>/dev/null; then
        stat=${stat##*) }
        [[ $stat =~ ^[A-Za-z]\ [0-9]+\ ([0-9]+) && ${BASH_REMATCH[1]} == "$_SD_PID" ]] \
            && return 1
    fi
    if [[ -n $started ]] && _sd_start_id "$_SD_PID" && [[ $_SD_START_ID != "$started" ]]; then
        return 1
    fi
    return 0
}

# _sd_group_alive PGID: true while a process of the group runs. kill -0 answers for the
# group, but also for zombies; where /proc exists it confirms a member that is not one.
function _sd_group_alive {
    local - pgid=$1 file stat
    set +o noglob
    if [[ ! -r /proc/self/stat ]]; then
        kill -0 -- "-$pgid" 2>/dev/null
        return
    fi
    # root can trust a "no such group"; others may only lack the right to signal it
    if ((EUID == 0)) && ! kill -0 -- "-$pgid" 2>/dev/null; then
        return 1
    fi
    for file in "/proc/$pgid/stat" /proc/[0-9]*/stat; do
        { read -r stat < "$file"; } 2>/dev/null || continue
        stat=${stat##*) }
        [[ $stat =~ ^([A-Za-z])\ [0-9]+\ ([0-9]+)\  ]] || continue
        [[ ${BASH_REMATCH[2]} == "$pgid" && ${BASH_REMATCH[1]} != [ZX] ]] && return 0
    done
    return 1
}

# _sd_signal_group SIGNAL PGID: signal the whole group (through sudo if it is not ours).
function _sd_signal_group {
    kill -s "$1" -- "-$2" 2>/dev/null && return 0
    ((EUID != 0)) && command -v sudo >/dev/null && sudo -n kill -s "$1" -- "-$2" 2>/dev/null
    return 0
}

# _sd_as_user USER GROUP: _SD_AS = the command prefix that runs a command as USER (and
# GROUP), empty when that is who we already are.
function _sd_as_user {
    _SD_AS=()
    local user=${1:-} group=${2:-}
    [[ -z $user || $user != "$(id -un)" ]] || user=""
    [[ -z $group || $group != "$(id -gn)" ]] || group=""
    [[ -n $user$group ]] || return 0
    if ((EUID == 0)) && command -v runuser >/dev/null; then
        _SD_AS=(runuser -u "${user:-root}")
        [[ -z $group ]] || _SD_AS+=(-g "$group")
        _SD_AS+=(--)
    else
        _SD_AS=(sudo -n)
        [[ -z $user ]] || _SD_AS+=(-u "$user")
        [[ -z $group ]] || _SD_AS+=(-g "$group")
        _SD_AS+=(--)
    fi
}

# _sd_check_program NAME CMD: die with one line unless CMD's program exists: its first word
# (after VAR=value assignments and "exec") must be an executable path, a command on PATH, or
# a function, builtin or keyword of this shell. Otherwise the service would start, fail at
# once in its log, and the step would still succeed (e.g. "$FOO_BIN_DIR/foo-api" with an
# unset FOO_BIN_DIR).
# Differs from DevStack: DevStack only refused a relative path or sudo; a missing program
# there left a failing systemd unit behind.
function _sd_check_program {
    local name=$1 word prog=""
    local -a words
    _sd_words words "$2"
    for word in "${words[@]}"; do
        [[ $word =~ ^[A-Za-z_][A-Za-z0-9_]*= || $word == exec ]] && continue
        prog=$word
        break
    done
    if [[ -z $prog ]]; then
        _sd_message ERROR "run_process $name: the command has no program: '$2'"
    elif [[ $prog == */* && -f $prog && -x $prog ]]; then
        return 0
    elif [[ $prog != */* ]] && type -t -- "$prog" >/dev/null 2>&1; then
        return 0
    else
        _sd_message ERROR "run_process $name: command not found: $prog"
    fi
    echo "$_SD_MESSAGE" >&2
    exit 1
}

# run_process NAME CMD [GROUP] [USER]: if service NAME is enabled, start CMD (run by
# bash -c) in a session and process group of its own, detached from the step: stdin from
# /dev/null, stdout and stderr appended to logs/NAME.log, the group leader's pid (and the
# step running this) in pids/NAME.pid. A running NAME is stopped first (a restart).
# pids/NAME.cmd records how it was started (directory, exported environment, command,
# group, user), so that `stackdag start NAME` can start it again without a hook.
function run_process {
    local name=${1:-} cmd=${2:-} group=${3:-} user=${4:-}
    [[ -n $name && -n $cmd ]] || _sd_fail 1 "run_process: NAME and COMMAND required"
    _sd_service_name "$name"
    is_service_enabled "$name" || return 0
    _sd_check_program "$name" "$cmd"
    stop_process "$name"
    [[ -d $STACKDAG_PIDS_DIR ]] || mkdir -p "$STACKDAG_PIDS_DIR"
    # the environment may hold secrets: readable by its owner only
    (
        umask 077
        {
            printf 'cd -- %q || exit 1\n' "$PWD"
            export -p
            printf '_SD_STEP=%q\n' "${_SD_STEP:-}"     # not exported by the step driver
            printf '_SD_START=(%q %q %q)\n' "$cmd" "$group" "$user"
        } > "$STACKDAG_PIDS_DIR/$name.cmd"
    )
    _sd_start "$name" "$cmd" "$group" "$user" run_process
}

# start_recorded NAME: start NAME again the way run_process last started it (its
# pids/NAME.cmd), in a subshell: `stackdag start` and `restart` run no hook.
function start_recorded {
    local name=${1:-}
    _sd_service_name "$name"
    local record=$STACKDAG_PIDS_DIR/$name.cmd
    [[ -r $record ]] || _sd_fail 1 "start_recorded: no command recorded for $name"
    (
        source "$record" 2>/dev/null || exit 1
        _sd_start "$name" "${_SD_START[@]}" start
    ) || _sd_fail 1 "start_recorded: could not start $name from $record"
}

# _sd_pidfile NAME PID: pids/NAME.pid for the group PID leads: the group, the step that
# started it (unstack forgets that step), and when its leader started (setsid and bash -c
# exec in place: the pid and start time stay the leader's).
function _sd_pidfile {
    _sd_start_id "$2" || true
    printf '%s\n%s\n%s\n' "$2" "${_SD_STEP:-}" "$_SD_START_ID" > "$STACKDAG_PIDS_DIR/$1.pid"
}

# _sd_start NAME CMD GROUP USER HOW: start CMD as described for run_process; HOW names the
# caller in the log's header line.
function _sd_start {
    local name=$1 cmd=$2 group=$3 user=$4 how=$5
    local logs=$STACKDAG_LOG_DIR pids=$STACKDAG_PIDS_DIR
    [[ -d $logs && -d $pids ]] || mkdir -p "$logs" "$pids"
    local log=$logs/$name.log
    _sd_as_user "$user" "$group"
    printf '%(%F %T)T stackdag: %s %s: %s\n' -1 "$how" "$name" "$cmd" >> "$log"
    # Without job control the child is not a group leader, so setsid(1) makes it the leader
    # of a new session in place and $! is that leader.
    local monitor="" fd
    if [[ $- == *m* ]]; then
        monitor=1
        set +o monitor
    fi
    (
        # Recorded first, while it is in the step's group: a step stopped now (its whole
        # group) stops it too; once it runs on its own, its pidfile names it.
        _sd_pidfile "$name" "$BASHPID" || exit 1
        # keep nothing of the step open: only stdin, stdout and stderr go to the service
        for fd in /dev/fd/*; do
            fd=${fd##*/}
            if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then
                { exec {fd}>&-; } 2>/dev/null
            fi
        done
        exec setsid "${_SD_AS[@]}" bash -c "$cmd"
    ) < /dev/null >> "$log" 2>&1 &
    local pid=$!
    disown "$pid"  # not this shell's job: no "Killed" notice when it is stopped
    [[ -z $monitor ]] || set -o monitor
    _sd_pidfile "$name" "$pid"      # again: the service may have failed before it could
    # Wait (a few ms) for the new group to exist, so that stopping at once finds it.
    local tries=0
    until kill -0 -- "-$pid" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do
        ((++tries < 300)) || break
        sleep 0.01
    done
    echo "stackdag: started $name (pid $pid), log $log"
}

# stop_process NAME: stop the service's whole process group: TERM, then KILL after
# ${STACKDAG_STOP_TIMEOUT:-10} seconds; the pidfile is removed. Quiet if not running.
# Differs from DevStack: a recorded service is stopped even if it has since been disabled.
function stop_process {
    local name=${1:-}
    [[ -n $name ]] || _sd_fail 1 "stop_process: NAME required"
    _sd_service_name "$name"
    local pidfile=$STACKDAG_PIDS_DIR/$name.pid
    [[ -e $pidfile ]] || return 0
    if _sd_pid_of "$name" && _sd_group_alive "$_SD_PID"; then
        local pgid=$_SD_PID timeout=${STACKDAG_STOP_TIMEOUT:-10} ticks=0 limit
        [[ $timeout =~ ^([0-9]*)(\.([0-9]))?[0-9]*$ ]] || timeout=10
        limit=$((10#0${BASH_REMATCH[1]} * 10 + 10#0${BASH_REMATCH[3]}))
        _sd_signal_group TERM "$pgid"
        while _sd_group_alive "$pgid" && ((ticks++ < limit)); do
            sleep 0.1
        done
        if _sd_group_alive "$pgid"; then
            echo "stackdag: $name did not stop within ${timeout}s of SIGTERM: killing it"
            _sd_signal_group KILL "$pgid"
            ticks=0
            while _sd_group_alive "$pgid" && ((ticks++ < 50)); do
                sleep 0.1
            done
            if _sd_group_alive "$pgid"; then
                _sd_message ERROR "could not stop $name (process group $pgid)"
                echo "$_SD_MESSAGE" >&2
                return 1
            fi
        fi
        echo "stackdag: stopped $name"
    fi
    rm -f "$pidfile"
}

# is_running NAME: true while the service's recorded process group runs.
# Differs from DevStack: it checks the pidfile's group, not `ps | grep NAME`.
function is_running {
    _sd_service_name "${1:-}"
    _sd_pid_of "$1" && _sd_group_alive "$_SD_PID"
}

# service_check: report every recorded service whose process group is gone; false if any.
function service_check {
    local file name failed=0
    for file in "$STACKDAG_PIDS_DIR"/*.pid; do
        [[ -e $file ]] || continue
        name=${file##*/}
        name=${name%.pid}
        if ! is_running "$name"; then
            echo "[ERROR] service $name is not running (see $STACKDAG_LOG_DIR/$name.log)" >&2
            failed=1
        fi
    done
    return "$failed"
}
