#!/bin/bash
# Process groups: who is in one (by /proc), who may signal whom, and ending a group as a
# service's stop does (TERM to its leader, then the rest, then KILL). processes.sh,
# units.sh and sysservices.sh stop their services with these. Loaded by functions.sh on
# first use (autoload.sh).

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

# _sd_group_members PGID [FIRST]: _SD_MEMBERS = the live processes of the group (only the
# first one found, with FIRST). kill -0 answers for the group, but also for zombies; where
# /proc exists it confirms members that are not. Without /proc, the leader stands for it.
function _sd_group_members {
    local - pgid=$1 file stat
    set +o noglob
    _SD_MEMBERS=()
    if [[ ! -r /proc/self/stat ]]; then
        ! kill -0 -- "-$pgid" 2>/dev/null || _SD_MEMBERS=("$pgid")
        return 0
    fi
    # root can trust a "no such group"; others may only lack the right to signal it
    if ((EUID == 0)) && ! kill -0 -- "-$pgid" 2>/dev/null; then
        return 0
    fi
    for file in "/proc/$pgid/stat" /proc/[0-9]*/stat; do
        { read -r stat < "$file"; } 2>/dev/null || continue
        stat=${stat##*) }
        [[ $stat =~ ^([A-Za-z])\ [0-9]+\ ([0-9]+)\  ]] || continue
        [[ ${BASH_REMATCH[2]} == "$pgid" && ${BASH_REMATCH[1]} != [ZX] ]] || continue
        file=${file#/proc/}
        file=${file%/stat}
        [[ " ${_SD_MEMBERS[*]} " == *" $file "* ]] || _SD_MEMBERS+=("$file")
        [[ -z ${2:-} ]] || return 0
    done
}

# _sd_group_alive PGID: true while a process of the group runs.
function _sd_group_alive {
    _sd_group_members "$1" first
    ((${#_SD_MEMBERS[@]}))
}

# _sd_may_signal PID: this user may signal process PID (root may; others, a process whose
# real or saved uid is theirs).
function _sd_may_signal {
    ((EUID == 0)) && return 0
    local key real effective saved
    while read -r key real effective saved _; do
        [[ $key == Uid: ]] || continue
        [[ $real == "$EUID" || $saved == "$EUID" ]]
        return
    done < "/proc/$1/status"
    return 1
}

# _sd_signal SIGNAL PGID: SIGNAL to the group PGID and to each process of _SD_MEMBERS
# outside it (a unit's control group); those this user may not signal, through sudo where
# it may. None is signalled twice.
function _sd_signal {
    local sig=$1 pgid=$2 pid stat
    local -a refused=()
    [[ -z $pgid ]] || kill -s "$sig" -- "-$pgid" 2>/dev/null || :
    for pid in "${_SD_MEMBERS[@]}"; do
        { read -r stat < "/proc/$pid/stat"; } 2>/dev/null || continue
        stat=${stat##*) }
        if ! _sd_may_signal "$pid" 2>/dev/null; then
            refused+=("$pid")
        elif [[ ! $stat =~ ^[A-Za-z]\ [0-9]+\ ([0-9]+) || ${BASH_REMATCH[1]} != "$pgid" ]]; then
            kill -s "$sig" "$pid" 2>/dev/null || :
        fi
    done
    if ((${#refused[@]})) && command -v sudo >/dev/null; then
        sudo -n kill -s "$sig" -- "${refused[@]}" 2>/dev/null || :
    fi
    return 0
}

# _sd_left PGID CGROUP: _SD_MEMBERS = the live processes of the group, then those of the
# control group outside it (either may be empty).
function _sd_left {
    local pid
    local -a group=()
    if [[ -n $1 ]]; then
        _sd_group_members "$1"
        group=("${_SD_MEMBERS[@]}")
    fi
    _SD_MEMBERS=()
    [[ -z $2 ]] || _sd_cgroup_members "$2"
    local -a outside=("${_SD_MEMBERS[@]}")
    _SD_MEMBERS=("${group[@]}")
    for pid in "${outside[@]}"; do
        [[ " ${group[*]} " == *" $pid "* ]] || _SD_MEMBERS+=("$pid")
    done
}

# _sd_leads PGID: true while process PGID lives and leads its group.
function _sd_leads {
    local stat
    { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ $stat =~ ^([A-Za-z])\ [0-9]+\ ([0-9]+) && ${BASH_REMATCH[1]} != [ZX] \
        && ${BASH_REMATCH[2]} == "$1" ]]
}

# _sd_end NAME RECORD PGID [CGROUP]: end what is left of a service, its process group and
# its control group (units.sh): TERM to the group's leader alone first, as systemd's
# KillMode=process stops DevStack's units, so that it ends its own workers (a uwsgi worker
# TERMed directly while its master shuts it down may hang for the master's whole "mercy",
# 80 s for keystone); then TERM to what is left, and KILL after ${STACKDAG_STOP_TIMEOUT:-10}
# seconds (at once, if the leader outlived its TERM). False, with an ERROR line naming the
# survivors, when some process could not be ended (one of another user that this user may
# not signal, say); they are noted in its RECORD (a left= line: pid:start identity), which
# proves the group the service's to the next stop, once its leader is gone.
function _sd_end {
    local name=$1 record=$2 pgid=$3 cgroup=${4:-} timeout=${STACKDAG_STOP_TIMEOUT:-10}
    local sig ticks=0 limit line pid kept="" left="left="
    local -a sigs=(TERM KILL)
    [[ $timeout =~ ^([0-9]*)(\.([0-9]))?[0-9]*$ ]] || timeout=10
    limit=$((10#0${BASH_REMATCH[1]} * 10 + 10#0${BASH_REMATCH[3]}))
    if [[ -n $pgid ]] && _sd_leads "$pgid"; then
        _SD_MEMBERS=("$pgid")
        _sd_signal TERM ""
        while _sd_leads "$pgid" && ((ticks++ < limit)); do
            sleep 0.1
        done
        ! _sd_leads "$pgid" || sigs=(KILL)
    fi
    for sig in "${sigs[@]}"; do
        _sd_left "$pgid" "$cgroup"
        ((${#_SD_MEMBERS[@]})) || return 0
        if [[ $sig == KILL ]]; then
            echo "stackdag: $name did not stop within ${timeout}s of SIGTERM: killing it"
            limit=50
        fi
        _sd_signal "$sig" "$pgid"
        ticks=0
        while _sd_left "$pgid" "$cgroup" && ((${#_SD_MEMBERS[@]} && ticks++ < limit)); do
            sleep 0.1
        done
    done
    ((${#_SD_MEMBERS[@]})) || return 0
    _sd_message ERROR "could not stop $name: pid ${_SD_MEMBERS[*]} still running (not" \
        "this user's to signal?); it stays recorded, and the next unstack tries again"
    echo "$_SD_MESSAGE" >&2
    while IFS= read -r line; do
        [[ $line == left=* ]] || kept+=$line$'\n'
    done < "$record"
    for pid in "${_SD_MEMBERS[@]}"; do
        ! _sd_start_id "$pid" || left+=" $pid:$_SD_START_ID"
    done
    printf '%s%s\n' "$kept" "${left/= /=}" > "$record"
    return 1
}
