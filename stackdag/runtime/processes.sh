#!/bin/bash
# Long-running services: run_process and friends. Loaded by functions.sh on first use.
#
# Where PID 1 is systemd a service is DevStack's devstack@NAME.service unit (units.sh);
# elsewhere (a container, CI) it is a plain process group recorded in
# $STACKDAG_PIDS_DIR/NAME.pid and logging to $STACKDAG_LOG_DIR/NAME.log.
# Differs from DevStack: CMD may be any shell command (DevStack wanted an absolute path
# without sudo); run_process on a running service restarts it (systemctl start left the
# old process running); and a service is reported stopped only once no process of it is
# left (its survivors are named, its record kept, and the stop fails).

# _sd_service_name NAME: die unless NAME is usable as a file name.
function _sd_service_name {
    [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$ ]] \
        || _sd_fail 1 "${FUNCNAME[1]}: bad service name '$1'"
}

# _sd_pid_of NAME [KIND]: _SD_PID = the process group recorded for NAME (in NAME.KIND,
# pid by default: a unit's record starts the same way); false if there is none
# (or it is not a usable group: never 0, 1, or this shell's own group), or if the group's
# leader pid now belongs to another process than the one run_process started (a reboot or
# pid reuse), so that nothing unrelated is ever stopped.
function _sd_pid_of {
    _SD_PID=""
    local file=$STACKDAG_PIDS_DIR/$1.${2:-pid} stat step started=""
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

# run_process NAME CMD [GROUP] [USER] [ENV_VARS]: if service NAME is enabled, start CMD as
# its GROUP and USER when given, with ENV_VARS ("A=1 B=2", after SYSTEMD_ENV_VARS[NAME])
# in its environment; a CMD that runs uwsgi gets `--venv $DEVSTACK_VENV` with GLOBAL_VENV
# (DevStack's contract). A running NAME is stopped first (a restart). Where PID 1 is
# systemd, NAME runs as the unit devstack@NAME.service (units.sh). Elsewhere CMD (run by
# bash -c) runs in a session and process group of its own, detached from the step: stdin
# from /dev/null, stdout and stderr appended to logs/NAME.log, the group leader's pid (and
# the step running this) in pids/NAME.pid; pids/NAME.cmd records how it was started
# (directory, exported environment, command, group, user, variables), so that
# `stackdag start NAME` can start it again without a hook.
function run_process {
    local name=${1:-} cmd=${2:-} group=${3:-} user=${4:-} env=${5:-}
    [[ -n $name && -n $cmd ]] || _sd_fail 1 "run_process: NAME and COMMAND required"
    _sd_service_name "$name"
    is_service_enabled "$name" || return 0
    [[ -z ${SYSTEMD_ENV_VARS[$name]:-} ]] || env="${SYSTEMD_ENV_VARS[$name]} $env"
    local -a assignments
    _sd_env_words assignments "$env" \
        || _sd_fail 1 "run_process $name: '$_SD_BAD' in its variables is not NAME=VALUE"
    if [[ $cmd == *uwsgi* && ${GLOBAL_VENV:-} == True ]]; then
        cmd+=" --venv ${DEVSTACK_VENV:-${DATA_DIR:-$DEST/data}/venv}"
    fi
    _sd_check_program "$name" "$cmd"
    stop_process "$name" \
        || _sd_fail 1 "run_process $name: the running $name could not be stopped; not" \
            "starting another"
    [[ -d $STACKDAG_PIDS_DIR ]] || mkdir -p "$STACKDAG_PIDS_DIR"
    if _sd_systemd; then
        _sd_unit_run "$name" "$cmd" "$group" "$user" "$env"
        return
    fi
    # the environment may hold secrets: readable by its owner only
    (
        umask 077
        {
            printf 'cd -- %q || exit 1\n' "$PWD"
            export -p
            printf '_SD_STEP=%q\n' "${_SD_STEP:-}"     # not exported by the step driver
            printf '_SD_START=(%q %q %q)\n' "$cmd" "$group" "$user"
            printf '_SD_ENV=%q\n' "$env"
        } > "$STACKDAG_PIDS_DIR/$name.cmd"
    )
    _sd_start "$name" "$cmd" "$group" "$user" run_process "$env"
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
        _sd_start "$name" "${_SD_START[@]}" start "${_SD_ENV:-}"
    ) || _sd_fail 1 "start_recorded: could not start $name from $record"
}

# _sd_pidfile NAME PID: pids/NAME.pid for the group PID leads: the group, the step that
# started it (unstack forgets that step), and when its leader started (setsid and bash -c
# exec in place: the pid and start time stay the leader's). Written whole, then renamed
# into place: with -n 2 another step's checks read the pids while this one starts its
# service, and a pidfile caught half written read as no service at all.
function _sd_pidfile {
    local partial=$STACKDAG_PIDS_DIR/.$1.pid.$BASHPID
    _sd_start_id "$2" || true
    printf '%s\n%s\n%s\n' "$2" "${_SD_STEP:-}" "$_SD_START_ID" > "$partial" \
        && command mv -f -- "$partial" "$STACKDAG_PIDS_DIR/$1.pid"
}

# _sd_start NAME CMD GROUP USER HOW [ENV]: start CMD as described for run_process; HOW names
# the caller in the log's header line.
function _sd_start {
    local name=$1 cmd=$2 group=$3 user=$4 how=$5 env=${6:-}
    local logs=$STACKDAG_LOG_DIR pids=$STACKDAG_PIDS_DIR
    [[ -d $logs && -d $pids ]] || mkdir -p "$logs" "$pids"
    local log=$logs/$name.log
    _sd_as_user "$user" "$group"
    # its variables, by env(1) (through sudo, which keeps no environment, with PATH too)
    local -a assignments
    _sd_env_words assignments "$env"
    [[ ${_SD_AS[0]:-} != sudo ]] || assignments=("PATH=$PATH" "${assignments[@]}")
    printf '%(%F %T)T stackdag: %s %s: %s\n' -1 "$how" "$name" "$cmd" >> "$log"
    # Without job control the child is not a group leader, so setsid(1) makes it the leader
    # of a new session in place and $! is that leader.
    local monitor="" fd
    if [[ $- == *m* ]]; then
        monitor=1
        set +o monitor
    fi
    (
        # It runs beside the step, which may be saving its state through the scratch file:
        # a family this needs loads without it (procgroups.sh's listing there, caught in
        # the step's, made the save fail).
        _SD_SCRATCH=""
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
        exec setsid "${_SD_AS[@]}" env "${assignments[@]}" bash -c "$cmd"
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

# stop_process NAME: stop the service: its unit (units.sh), or its whole process group:
# TERM, then KILL after ${STACKDAG_STOP_TIMEOUT:-10} seconds. Its record is removed once
# nothing of it is left; a process that could not be ended is named, the record is kept
# (the next unstack tries again) and stop_process fails. Quiet if not running.
# Differs from DevStack: a recorded service is stopped even if it has since been disabled.
function stop_process {
    local name=${1:-}
    [[ -n $name ]] || _sd_fail 1 "stop_process: NAME required"
    _sd_service_name "$name"
    if [[ -e $STACKDAG_PIDS_DIR/$name.unit ]]; then
        _sd_unit_stop "$name" || return 1
    fi
    local pidfile=$STACKDAG_PIDS_DIR/$name.pid
    [[ -e $pidfile ]] || return 0
    if _sd_pid_of "$name" && _sd_group_alive "$_SD_PID"; then
        _sd_end "$name" "$pidfile" "$_SD_PID" || return 1
        echo "stackdag: stopped $name"
    fi
    rm -f "$pidfile"
}

# is_running NAME: true while service NAME runs: the unit or process group run_process
# started, else the system service NAME (sysservices.sh).
# Differs from DevStack: it asks the record, the unit or the init script, not
# `ps | grep NAME` (which also matched any command line naming NAME, its caller's too).
function is_running {
    local name=${1:-}
    _sd_service_name "$name"
    if [[ -e $STACKDAG_PIDS_DIR/$name.unit ]]; then
        _sd_unit_active "$name"
    elif [[ -e $STACKDAG_PIDS_DIR/$name.pid ]]; then
        _sd_pid_of "$name" && _sd_group_alive "$_SD_PID"
    else
        _sd_system_running "$name"
    fi
}

# service_check: report every recorded service (process group, unit, system service) that
# is not running, and where to look; false if any.
function service_check {
    local file name kind failed=0 where
    for file in "$STACKDAG_PIDS_DIR"/*.pid "$STACKDAG_PIDS_DIR"/*.unit \
            "$STACKDAG_PIDS_DIR"/*.system; do
        [[ -e $file ]] || continue
        name=${file##*/}
        kind=${name##*.}
        name=${name%.*}
        case $kind in
            pid) where=$STACKDAG_LOG_DIR/$name.log; is_running "$name" ;;
            unit) where="journalctl -u devstack@$name.service"; _sd_unit_active "$name" ;;
            system) where="service $name status"; _sd_system_running "$name" ;;
        esac || {
            echo "[ERROR] service $name is not running (see $where)" >&2
            failed=1
        }
    done
    return "$failed"
}
