#!/bin/bash
# The distribution's services (mariadb, apache2, memcached, rabbitmq-server...):
# start_service, stop_service, restart_service, reload_service, through systemctl where
# PID 1 is systemd and the init scripts (`service NAME ACTION`) where it is not. Loaded on
# first use (functions.sh). Written for stackdag from reading DevStack's functions-common.
#
# A service a step starts (or restarts, or reloads) is recorded with that step as
# $STACKDAG_PIDS_DIR/NAME.system: the pidfile's three lines (a pid of the service, the
# step, the pid's start identity; pid 0 when none could be found), then manager=systemd or
# manager=init, and systemctl= (the command that manages it). So `stackdag status` lists
# it, a step whose service died re-runs (freshness.py), `unstack --all` and `clean` stop it
# (stackdag/sysservices.py).
#
# Differs from DevStack: DevStack called systemctl whenever /bin/systemctl exists, which
# fails on a host whose PID 1 is not systemd ("System has not been booted with systemd");
# this asks who PID 1 is (units.sh: _sd_systemd).

# start_service / restart_service / reload_service / stop_service NAME: a system service.
function start_service {
    _sd_system_service start "${1:-}"
}

function restart_service {
    _sd_system_service restart "${1:-}"
}

function reload_service {
    _sd_system_service reload "${1:-}"
}

function stop_service {
    _sd_system_service stop "${1:-}"
}

# _sd_system_service ACTION NAME: ACTION (start, restart, reload, stop) on the system
# service NAME, as root; recorded (not run) in record mode. A service left running is
# recorded with the step. A stop in an unstack or clean hook keeps it recorded, so that
# the next stack starts it again; any other stop forgets it (the hook meant it).
function _sd_system_service {
    local action=$1 name=$2
    _sd_service_name "$name"
    if _sd_recording; then
        [[ $action != reload ]] || action=reload-or-restart
        _sd_record service "$action" "$name"
        return 0
    fi
    local -A before=()
    [[ $action == stop ]] || _sd_proc_snapshot before
    if _sd_systemd; then
        [[ $action != reload ]] || action=reload-or-restart   # it starts a stopped one
        _sd_systemctl "$action" "$name" || return
    else
        _sd_init_script "$name"
        name=$_SD_INIT
        if [[ $action == stop && ! -e /etc/init.d/$name ]]; then
            # not installed (never, or purged since: clean.sh purges the database server)
            echo "stackdag: $name has no init script here: nothing to stop"
        else
            _sd_sudo service "$name" "$action" || return
        fi
    fi
    if [[ $action != stop ]]; then
        _sd_system_record "$name" before
    elif [[ ${_SD_STEP:-} != @(unstack|clean)/* ]]; then
        # (by the command's step, not the hook's mode: DevStack's stages run with their
        # verb for a mode, unstack-all, cleanup...)
        rm -f "$STACKDAG_PIDS_DIR/$name.system"
    fi
}

# _sd_system_running NAME: true while the system service NAME runs: its unit is active,
# or its init script's status says so.
function _sd_system_running {
    if _sd_systemd; then
        _sd_systemctl is-active --quiet "$1" 2>/dev/null || return 1
    else
        _sd_init_script "$1"
        [[ -x /etc/init.d/$_SD_INIT ]] && _sd_sudo service "$_SD_INIT" status >/dev/null 2>&1 \
            || return 1
    fi
}

# _sd_init_script NAME: _SD_INIT = the init script of the system service NAME: its own,
# else that of the unit NAME's unit file links to, as systemctl finds a unit by an alias
# (Debian's mariadb ships mysql.service -> mariadb.service, and unstack.sh stops "mysql":
# service(8) says "mysql: unrecognized service"). NAME itself when neither exists.
function _sd_init_script {
    _SD_INIT=$1
    [[ ! -e /etc/init.d/$1 ]] || return 0
    local dir unit
    for dir in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
        [[ -L $dir/$1.service ]] || continue
        unit=$(readlink -f -- "$dir/$1.service") || continue
        unit=${unit##*/}
        unit=${unit%.service}
        if [[ -e /etc/init.d/$unit ]]; then
            _SD_INIT=$unit
            return 0
        fi
    done
}

# _sd_proc_snapshot ARRAY: the pids running now, as the keys of the associative ARRAY.
function _sd_proc_snapshot {
    local -n _sd_snap=$1
    local - entry
    set +o noglob
    for entry in /proc/[0-9]*; do
        _sd_snap[${entry#/proc/}]=1
    done
}

# _sd_system_record NAME [BEFORE]: record the system service NAME as the step's, with a
# pid of it: systemd's main pid; for an init script, the pid in its pidfile, else the one
# recorded before if it still runs (a reload, a start of a running service), else the
# daemon it started (BEFORE: the pids that ran before it was called). Else pid 0: the
# manager is asked each time. stackdag/sysservices.py records it again (without BEFORE)
# when the pid recorded no longer runs but the service does (restarted by someone else).
function _sd_system_record {
    local name=$1 pid=0 manager=init systemctl=""
    if _sd_systemd; then
        manager=systemd
        systemctl=${SYSTEMCTL:-sudo systemctl}
        _sd_unit_show "$name"
        pid=$_SD_MAIN_PID
    elif _sd_daemon_pidfile "$name"; then
        pid=$_SD_DAEMON
    elif _sd_pid_of "$name" system && _sd_start_id "$_SD_PID"; then
        pid=$_SD_PID
    elif [[ -n ${2:-} ]] && _sd_daemon_started "$2" "$name"; then
        pid=$_SD_DAEMON
    fi
    ((pid > 1)) && _sd_start_id "$pid" || _SD_START_ID=""
    [[ -d $STACKDAG_PIDS_DIR ]] || mkdir -p "$STACKDAG_PIDS_DIR"
    printf '%s\n%s\n%s\nmanager=%s\nsystemctl=%s\n' "$pid" "${_SD_STEP:-}" "$_SD_START_ID" \
        "$manager" "$systemctl" > "$STACKDAG_PIDS_DIR/$name.system"
}

# _sd_daemon_started BEFORE NAME: _SD_DAEMON = the daemon NAME's init script started: of
# the processes that did not run before (BEFORE, an associative array of pids), the
# oldest that init has for a child now (a daemon leaves the script, which has ended),
# whose command name the script mentions, and that no stackdag started (a step's
# processes, in any workspace, carry STACKDAG_STATE_DIR, which `service` clears from what
# it starts). False when there is none (it already ran, or runs as another program).
function _sd_daemon_started {
    local -n _sd_old=$1
    local - entry pid stat comm script best="" best_ticks=""
    local -a fields
    set +o noglob
    { script=$(< "/etc/init.d/$2"); } 2>/dev/null || return 1
    for entry in /proc/[0-9]*; do
        pid=${entry#/proc/}
        [[ -z ${_sd_old[$pid]:-} ]] || continue
        { read -r stat < "$entry/stat"; } 2>/dev/null || continue
        comm=${stat#*(}
        comm=${comm%) *}
        stat=${stat##*) }
        read -r -a fields <<< "$stat"
        [[ ${fields[0]} != [ZX] && ${fields[1]} == 1 && $script == *"$comm"* ]] || continue
        ! _sd_of_stackdag "$pid" || continue
        if [[ -z $best ]] || ((fields[19] < best_ticks \
                || (fields[19] == best_ticks && pid < best))); then
            best=$pid best_ticks=${fields[19]}
        fi
    done
    _SD_DAEMON=$best
    [[ -n $best ]]
}

# _sd_of_stackdag PID: process PID carries a STACKDAG_STATE_DIR (a step of some workspace,
# or what one started), as far as this user may read its environment.
function _sd_of_stackdag {
    local -a vars
    { mapfile -d '' -t vars < "/proc/$1/environ"; } 2>/dev/null || return 1
    [[ " ${vars[*]} " == *" STACKDAG_STATE_DIR="* ]]
}

# _sd_daemon_pidfile NAME: _SD_DAEMON = the live pid in the service's pidfile, where
# Debian's init scripts keep one: /run/NAME.pid, or the only *.pid in /run/NAME/.
function _sd_daemon_pidfile {
    local - file pid=""
    local -a files
    set +o noglob
    files=("/run/$1.pid")
    [[ -e ${files[0]} ]] || files=("/run/$1"/*.pid)
    ((${#files[@]} == 1)) && [[ -r ${files[0]} ]] || return 1
    # start-memcached writes its pid without a newline: read fails, but reads it
    read -r pid 2>/dev/null < "${files[0]}" || [[ -n $pid ]] || return 1
    [[ $pid =~ ^[0-9]+$ ]] && ((pid > 1)) && [[ -d /proc/$pid ]] || return 1
    _SD_DAEMON=$pid
}
