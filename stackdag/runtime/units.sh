#!/bin/bash
# systemd units: run_process where PID 1 is systemd runs a service as DevStack does, as
# devstack@NAME.service in $SYSTEMD_DIR, started and stopped through $SYSTEMCTL (both as
# stackrc sets them: /etc/systemd/system and "sudo systemctl", or with USER_UNITS the user's
# own); and DevStack's write_user_unit_file / write_uwsgi_user_unit_file. Loaded on first
# use (functions.sh). Written for stackdag from reading DevStack's functions-common
# (_run_under_systemd, write_user_unit_file, write_uwsgi_user_unit_file, stop_process).
#
# A unit run_process started is recorded as $STACKDAG_PIDS_DIR/NAME.unit: the pidfile's
# three lines (its main pid, the step, the main pid's start identity), so that the no-op
# shortcut checks it as cheaply as a pidfile, then key=value lines (stackdag/sysservices.py
# reads them): unit=, systemctl= (the command that manages it), file= (the unit file) and
# cgroup= (its control group). $STACKDAG_PIDS_DIR/units lists every unit file written, for
# `clean` (clean.sh removes DevStack's).
#
# Differs from DevStack: run_process (re)starts the unit, where `systemctl start` left a
# running service as it was; a command that is not an absolute path without shell syntax
# runs through /bin/bash -c (DevStack refused it); the unit's Environment keeps PATH
# beside the service's variables (DevStack's second iniset replaced the PATH line); the
# unit file is written whole, so no option of an earlier unit is left in it.

# _sd_systemd: true when services are systemd units: PID 1 is systemd (as sd_booted()
# tells it: /run/systemd/system is a directory), unless STACKDAG_SYSTEMD says yes or no
# (process groups under systemd, or units for a test's fake systemctl).
function _sd_systemd {
    case ${STACKDAG_SYSTEMD:-} in
        yes) return 0 ;;
        no) return 1 ;;
        "") [[ -d /run/systemd/system ]] ;;
        *) _sd_fail 1 "STACKDAG_SYSTEMD must be yes or no (or unset: systemd when it is" \
                "PID 1), not '$STACKDAG_SYSTEMD'" ;;
    esac
}

# _sd_systemctl ARGS...: $SYSTEMCTL ARGS. Its sudo is dropped for root, which needs none
# (a container may have no sudo at all).
function _sd_systemctl {
    local -a words
    _sd_words words "${SYSTEMCTL:-sudo systemctl}"
    if [[ ${words[0]:-} == sudo ]] && ((EUID == 0)); then
        words=("${words[@]:1}")
    fi
    "${words[@]}" "$@"
}

# _sd_env_words ARRAY TEXT: the assignments of TEXT ("A=1 B='x y'") into ARRAY, one
# NAME=VALUE each, read as systemd reads an Environment= line: blank-separated words,
# quotes grouping, a backslash taking the next character as it is. False, with _SD_BAD set
# to the word, when a word is not NAME=VALUE.
function _sd_env_words {
    local -n _sd_env_out=$1
    local text=$2 word="" quote="" char i in=""
    _sd_env_out=()
    _SD_BAD=""
    for ((i = 0; i < ${#text}; i++)); do
        char=${text:i:1}
        if [[ $char == '\' && $quote != "'" ]]; then
            word+=${text:i+1:1}
            in=1
            i=$((i + 1))
        elif [[ -n $quote ]]; then
            [[ $char == "$quote" ]] && quote="" || word+=$char
        elif [[ $char == [\"\'] ]]; then
            quote=$char
            in=1
        elif [[ $char == [[:space:]] ]]; then
            [[ -z $in ]] || _sd_env_out+=("$word")
            word="" in=""
        else
            word+=$char
            in=1
        fi
    done
    [[ -z $in ]] || _sd_env_out+=("$word")
    for word in "${_sd_env_out[@]}"; do
        if [[ ! $word =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
            _SD_BAD=$word
            return 1
        fi
    done
}

# _sd_unit_exec CMD: _SD_EXEC = CMD as ExecStart= runs it. An absolute path with no shell
# syntax is given as it is (DevStack's form, and the main pid is the program itself); any
# other command runs through /bin/bash -c, quoted for systemd ($ and % doubled).
function _sd_unit_exec {
    local cmd=$1
    if [[ $cmd == /* && $cmd != *[\;\&\|\<\>\(\)\$\`\*\?]* && $cmd != *$'\n'* ]]; then
        _SD_EXEC=$cmd
        return 0
    fi
    cmd=${cmd//\\/\\\\}
    cmd=${cmd//\"/\\\"}
    cmd=${cmd//\$/\$\$}
    cmd=${cmd//%/%%}
    cmd=${cmd//$'\n'/\\n}
    _SD_EXEC="/bin/bash -c \"$cmd\""
}

# _sd_unit_file UNIT UWSGI COMMAND GROUP USER ENV: DevStack's unit file for COMMAND in
# $SYSTEMD_DIR (a Type=notify one for uwsgi when UWSGI is set), then daemon-reload. In
# record mode the file is written under the state directory instead and the reload is
# recorded. Every unit file written is listed in $STACKDAG_PIDS_DIR/units.
function _sd_unit_file {
    local unit=$1 uwsgi=$2 cmd=$3 group=$4 user=$5 env=$6
    local dir=${SYSTEMD_DIR:-/etc/systemd/system} kill text
    _sd_recording && dir=$STACKDAG_RECORDED_UNITS
    kill=${KILL_PATH:-$(type -P kill || echo /bin/kill)}
    text="[Unit]"$'\n'"Description = Devstack $unit"$'\n\n'"[Service]"$'\n'
    text+="Environment = \"PATH=$PATH\""$'\n'
    [[ -z $env ]] || text+="Environment = $env"$'\n'
    [[ -z $uwsgi ]] || text+="SyslogIdentifier = $unit"$'\n'
    text+="User = $user"$'\n'
    [[ -z $group ]] || text+="Group = $group"$'\n'
    text+="ExecStart = $cmd"$'\n'"ExecReload = $kill -HUP \$MAINPID"$'\n'
    if [[ -n $uwsgi ]]; then
        text+="Type = notify"$'\n'"KillMode = process"$'\n'"Restart = always"$'\n'
        text+="NotifyAccess = all"$'\n'"RestartForceExitStatus = 100"$'\n'
    else
        text+="KillMode = process"$'\n'"TimeoutStopSec = 300"$'\n'
    fi
    text+=$'\n'"[Install]"$'\n'"WantedBy = multi-user.target"$'\n'
    if _sd_recording; then
        mkdir -p "$dir"
        printf '%s' "$text" > "$dir/$unit"
        _sd_record service daemon-reload
        return 0
    fi
    if mkdir -p "$dir" 2>/dev/null && [[ -w $dir ]]; then
        printf '%s' "$text" > "$dir/$unit"
    else
        _sd_sudo mkdir -p "$dir"
        printf '%s' "$text" | _sd_sudo tee "$dir/$unit" >/dev/null
    fi
    _sd_unit_listed "$dir/$unit"$'\t'"${SYSTEMCTL:-sudo systemctl}"
    _sd_systemctl daemon-reload
}

# _sd_unit_listed LINE: LINE (a unit file, a tab, the systemctl that knows it) is in
# $STACKDAG_PIDS_DIR/units, once.
function _sd_unit_listed {
    local list=$STACKDAG_PIDS_DIR/units line
    if [[ -e $list ]]; then
        while IFS= read -r line; do
            [[ $line != "$1" ]] || return 0
        done < "$list"
    fi
    [[ -d $STACKDAG_PIDS_DIR ]] || mkdir -p "$STACKDAG_PIDS_DIR"
    printf '%s\n' "$1" >> "$list"
}

# write_user_unit_file UNIT COMMAND GROUP USER [ENV]: a systemd unit for COMMAND.
function write_user_unit_file {
    _sd_unit_file "${1:-}" "" "${2:-}" "${3:-}" "${4:-}" "${5:-}"
}

# write_uwsgi_user_unit_file UNIT COMMAND GROUP USER [ENV]: a Type=notify unit for uwsgi.
function write_uwsgi_user_unit_file {
    _sd_unit_file "${1:-}" 1 "${2:-}" "${3:-}" "${4:-}" "${5:-}"
}

# _sd_unit_show UNIT: _SD_MAIN_PID and _SD_CGROUP of a unit, as systemd reports them now
# (0 and "" for a unit that does not run).
function _sd_unit_show {
    local key value
    _SD_MAIN_PID=0 _SD_CGROUP=""
    while IFS='=' read -r key value; do
        case $key in
            MainPID) [[ $value =~ ^[0-9]+$ ]] && _SD_MAIN_PID=$value ;;
            ControlGroup) _SD_CGROUP=$value ;;
        esac
    done < <(_sd_systemctl show -p MainPID -p ControlGroup "$1" 2>/dev/null)
}

# _sd_unit_run NAME CMD GROUP USER ENV: run_process under systemd: write
# devstack@NAME.service, daemon-reload, enable and (re)start it, and record it.
function _sd_unit_run {
    local name=$1 unit=devstack@$1.service uwsgi=""
    [[ $2 != *uwsgi* ]] || uwsgi=1
    _sd_unit_exec "$2"
    # a real unit even where packages are only recorded: the service itself is started
    STACKDAG_PACKAGES=install _sd_unit_file "$unit" "$uwsgi" "$_SD_EXEC" "$3" \
        "${4:-${STACK_USER:-$(id -un)}}" "$5"
    _sd_systemctl enable "$unit" 2>&1
    if ! _sd_systemctl restart "$unit"; then
        _sd_fail 1 "run_process $name: $unit did not start; see \`journalctl -u $unit\`"
    fi
    _sd_unit_record "$name"
    echo "stackdag: started $name ($unit, main pid $_SD_MAIN_PID), log: journalctl -u $unit"
}

# _sd_unit_record NAME: record devstack@NAME.service as the step's (pids/NAME.unit), with
# its main pid as systemd reports it now (stackdag/sysservices.py asks again when the one
# recorded no longer runs: Restart=always may have started another).
function _sd_unit_record {
    local unit=devstack@$1.service
    _sd_unit_show "$unit"
    _sd_start_id "$_SD_MAIN_PID" || _SD_START_ID=""
    [[ -d $STACKDAG_PIDS_DIR ]] || mkdir -p "$STACKDAG_PIDS_DIR"
    printf '%s\n%s\n%s\nunit=%s\nsystemctl=%s\nfile=%s\ncgroup=%s\n' "$_SD_MAIN_PID" \
        "${_SD_STEP:-}" "$_SD_START_ID" "$unit" "${SYSTEMCTL:-sudo systemctl}" \
        "${SYSTEMD_DIR:-/etc/systemd/system}/$unit" "$_SD_CGROUP" \
        > "$STACKDAG_PIDS_DIR/$1.unit"
}

# _sd_cgroup_members CGROUP: _SD_MEMBERS += the processes of a control group (cgroup v2,
# or v1's systemd hierarchy), where the kernel shows them.
function _sd_cgroup_members {
    local file pid
    [[ -n $1 ]] || return 0
    for file in "/sys/fs/cgroup$1/cgroup.procs" "/sys/fs/cgroup/systemd$1/cgroup.procs"; do
        [[ -r $file ]] || continue
        while read -r pid; do
            [[ -z $pid ]] || _SD_MEMBERS+=("$pid")
        done < "$file"
        return 0
    done
}

# _sd_unit_stop NAME: stop_process for a unit run_process started: systemctl stop and
# disable (as DevStack's stop_process), then what its main process left in its group and
# control group (KillMode=process ends the main process only) is ended as a group is.
# The record is dropped only when nothing of the unit is left; otherwise the survivors
# are named and the step fails.
function _sd_unit_stop {
    local name=$1 record=$STACKDAG_PIDS_DIR/$1.unit unit=devstack@$1.service
    local pgid="" cgroup="" line
    while IFS= read -r line; do
        [[ $line == cgroup=* ]] && cgroup=${line#cgroup=}
    done < "$record"
    # the group to end: the main pid's now (systemd makes each service a group leader),
    # else the recorded one if that pid is still the one that was recorded
    _sd_unit_show "$unit"
    [[ -z $_SD_CGROUP ]] || cgroup=$_SD_CGROUP
    if ((_SD_MAIN_PID > 1)); then
        pgid=$_SD_MAIN_PID
    elif _sd_pid_of "$name" unit; then
        pgid=$_SD_PID
    fi
    _sd_systemctl stop "$unit" || echo "stackdag: systemctl stop $unit failed" >&2
    _sd_systemctl disable "$unit" >/dev/null 2>&1 || true
    _sd_end "$name" "$record" "$pgid" "$cgroup" || return 1
    rm -f "$record"
    echo "stackdag: stopped $name ($unit)"
}

# _sd_unit_active NAME: true while devstack@NAME.service is active.
function _sd_unit_active {
    _sd_systemctl is-active --quiet "devstack@$1.service" 2>/dev/null || return 1
}
