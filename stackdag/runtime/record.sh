#!/bin/bash
# Record mode ([stack] record = true, or `stackdag stack --record`): every hook runs for
# real, isolated from the machine (stackdag/isolation.py: namespaces of its own on an
# overlay of the machine's file systems, no network), so what it writes outside the
# workspace changes nothing, and is recorded with a diff. What reaches beyond the overlay
# (a server, the kernel, the network) or needs content the network would have given is
# recorded here instead of run, and what it would have produced is made to exist, so that
# the hook goes on under errexit:
#   package managers and pip      (the package helpers record through _sd_record)
#   service managers, run_process nothing is started
#   downloads                     curl/wget leave an empty output file
#   clones of other repositories  git_clone / `git clone` leave an empty checkout; git and
#                                 make run in that checkout are recorded too
#   kernel modules                modprobe, insmod, rmmod
#   waiting for a service         wait_for_service, wait_for_compute (nothing was started)
#   the openstack CLI             stable fake ids; `... list` prints nothing
#   database, queue, OVS/OVN      mysql, psql, recreate_database*, rabbitmqctl,
#   clients, apache, containers,  ovs-vsctl, ovn-*ctl, a2en*/a2dis*, docker, podman,
#   apt keys, iptables            buildah, apt-key, add-apt-repository, iptables:
#                                 whether or not installed
#   what a recorded package       sudo chown/chgrp/chmod of a path that does not exist, or
#   would have made               to a user or group that does not exist (bind9 makes the
#                                 bind user and /var/cache/bind)
#   sudo of any of these, and any command that does not exist (a DevStack lib/ function,
#   a program pip would have installed)
# Each record is one line in $STACKDAG_RECORDS (the step's own file, stackdag/state.py):
#   KIND <tab> FILE:LINE <tab> the command, shell-quoted
# Sourced by functions.sh when STACKDAG_RECORD is set, after everything else.

# _sd_rec_where: _SD_WHERE = FILE:LINE of the innermost call from outside the runtime
# (for a function carried from an earlier step, where it was defined: _sd_where).
function _sd_rec_where {
    local i
    _SD_WHERE="?"
    for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
        if [[ ${BASH_SOURCE[i]} != "$_SD_RUNTIME_DIR"/* ]]; then
            _sd_where "${BASH_SOURCE[i]}" "${BASH_LINENO[i - 1]}" "${FUNCNAME[i]:-}"
            return 0
        fi
    done
}

# _sd_rec KIND COMMAND...: record the command (it is not run).
function _sd_rec {
    local kind=$1 command
    shift
    _sd_rec_where
    printf -v command '%q ' "$@"
    printf '%s\t%s\t%s\n' "$kind" "$_SD_WHERE" "${command% }" >> "${STACKDAG_RECORDS:-/dev/null}"
    echo "stackdag: recorded, not run: ${command% }" >&2
}

function apt-get { _sd_rec package apt-get "$@"; }
function apt { _sd_rec package apt "$@"; }
function aptitude { _sd_rec package aptitude "$@"; }
function yum { _sd_rec package yum "$@"; }
function dnf { _sd_rec package dnf "$@"; }
function zypper { _sd_rec package zypper "$@"; }
function snap { _sd_rec package snap "$@"; }
function pip { _sd_rec pip pip "$@"; }
function pip3 { _sd_rec pip pip3 "$@"; }
function systemctl { _sd_rec service systemctl "$@"; }
function service { _sd_rec service service "$@"; }

function curl {
    _sd_rec download curl "$@"
    _sd_rec_fetched curl "$@"     # record_made.sh
}

function wget {
    _sd_rec download wget "$@"
    _sd_rec_fetched wget "$@"
}

# _sd_rec_clone_made DIR: DIR is a recorded clone: it exists, empty, and is remembered
# (in the state directory, for later steps) so that what a hook then does inside it is
# recorded too (_sd_rec_in_clone).
function _sd_rec_clone_made {
    [[ -n ${1:-} ]] || return 0
    _sd_rec_as_called mkdir -p -- "$1"
    local dir
    dir=$(cd -- "$1" && pwd -P) || return 0
    mkdir -p -- "${STACKDAG_RECORDED_CLONES%/*}" 2>/dev/null \
        && echo "$dir" >> "$STACKDAG_RECORDED_CLONES"
    return 0
}

# _sd_rec_in_clone [DIR]: DIR (default: the current directory) is in a recorded clone, so
# there is nothing in it to build, and no repository for git to work on. Such a command
# (`git submodule update`, `make`, `./configure` run in the checkout) is recorded too:
# on a real machine it would have worked on the clone's content.
function _sd_rec_in_clone {
    local dir=${1:-.} clone
    [[ -r $STACKDAG_RECORDED_CLONES ]] || return 1
    dir=$(cd -- "$dir" 2>/dev/null && pwd -P) || return 1
    while read -r clone; do
        [[ $dir == "$clone" || $dir == "$clone"/* ]] && return 0
    done < "$STACKDAG_RECORDED_CLONES"
    return 1
}

# _sd_rec_dir_option OPTION ARGS...: _SD_DIR = the value of the last OPTION (-C) in ARGS,
# else the current directory.
function _sd_rec_dir_option {
    local option=$1 previous=""
    shift
    _SD_DIR=.
    for arg in "$@"; do
        [[ $previous == "$option" ]] && _SD_DIR=$arg
        [[ $arg == "$option"?* ]] && _SD_DIR=${arg#"$option"}
        previous=$arg
    done
}

# git: `git clone` is recorded (an empty checkout is left), and so is any git command in a
# recorded clone; the rest runs.
function git {
    if [[ ${1:-} != clone ]]; then
        _sd_rec_dir_option -C "$@"
        if _sd_rec_in_clone "$_SD_DIR"; then
            _sd_rec clone git "$@"
            return 0
        fi
        command git "$@"
        return
    fi
    _sd_rec clone git "$@"
    # the words that are not options, nor the value of an option that takes one
    local -a words=()
    local arg skip=""
    for arg in "${@:2}"; do
        if [[ -n $skip ]]; then
            skip=""
        elif [[ $arg == @(-b|--branch|-o|--origin|-u|--upload-pack|-c|--config|-j|--jobs|--depth|--reference|--reference-if-able|--separate-git-dir|--template|--shallow-since|--shallow-exclude|--filter|--server-option|--bundle-uri|--ref-format) ]]; then
            skip=1
        elif [[ $arg != -* ]]; then
            words+=("$arg")
        fi
    done
    if ((${#words[@]} > 1)); then
        _sd_rec_clone_made "${words[-1]}"
    elif ((${#words[@]})); then
        local name=${words[0]%/}
        name=${name##*/}
        _sd_rec_clone_made "${name%.git}"
    fi
}

# make [-C DIR] ...: recorded when DIR is a recorded clone (there is nothing to build).
function make {
    _sd_rec_dir_option -C "$@"
    if _sd_rec_in_clone "$_SD_DIR"; then
        _sd_rec build make "$@"
        return 0
    fi
    command make "$@"
}

# git_clone REMOTE DEST [REF]: as DevStack's, recorded; DEST exists afterwards, empty.
function git_clone {
    _sd_rec clone git_clone "$@"
    _sd_rec_clone_made "${2:-}"
}

# git_clone_by_name NAME: GITDIR[NAME] exists afterwards, empty.
function git_clone_by_name {
    _sd_rec clone git_clone_by_name "$@"
    [[ -n ${1:-} && -n ${GITDIR[$1]:-} ]] && _sd_rec_clone_made "${GITDIR[$1]}"
    return 0
}

# Kernel modules change the running system.
function modprobe { _sd_rec kernel modprobe "$@"; }
function insmod { _sd_rec kernel insmod "$@"; }
function rmmod { _sd_rec kernel rmmod "$@"; }

# wait_for_service TIMEOUT URL / wait_for_compute TIMEOUT: record mode started nothing, so
# there is nothing to wait for (waiting would time out and fail the hook).
function wait_for_service { _sd_rec wait wait_for_service "$@"; }
function wait_for_compute { _sd_rec wait wait_for_compute "$@"; }

# run_process NAME CMD...: what it would start, when NAME is enabled.
function run_process {
    is_service_enabled "${1:-}" || return 0
    _sd_rec process run_process "$@"
}

# openstack ARGS...: recorded; answers with an id made from the arguments, so that
# `id=$(get_or_create_... )` chains go on. The cloud is new: `... list` answers nothing
# and `... show` finds nothing, so that the get_or_create_* helpers record the create.
# The answer has the format asked for (-f value|shell|json|yaml, table by default) and the
# columns asked for (-c; id by default), each with the same fake id: plugins read it as
# `-f value -c id`, `eval $(... -f shell -c id)`, or `| grep " id " | get_field 2`.
function openstack {
    _sd_rec openstack openstack "$@"
    local arg previous="" format=table prefix="" sum id IFS=' '
    local -a columns=()
    for arg in "$@"; do
        [[ $arg == list ]] && return 0
        if [[ $arg == show ]]; then
            echo "stackdag: record mode: nothing exists yet in the cloud" >&2
            return 1
        fi
        case $previous in
            -f | --format) format=$arg ;;
            -c | --column) columns+=("$arg") ;;
            --prefix) prefix=$arg ;;
        esac
        case $arg in
            --format=*) format=${arg#*=} ;;
            --column=*) columns+=("${arg#*=}") ;;
            --prefix=*) prefix=${arg#*=} ;;
        esac
        previous=$arg
    done
    sum=$(printf '%s' "$*" | cksum)
    printf -v id 'fake%08x%08x' "${sum%% *}" "${#*}"
    ((${#columns[@]})) || columns=(id)
    local column sep=""
    case $format in
        value) for column in "${columns[@]}"; do echo "$id"; done ;;
        shell)
            # as the CLI's shell formatter: names lowercased, other characters as _
            for column in "${columns[@]}"; do
                column=${column,,}
                echo "$prefix${column//[^a-z0-9_]/_}=\"$id\""
            done
            ;;
        json)
            printf '{'
            for column in "${columns[@]}"; do printf '%s"%s": "%s"' "$sep" "$column" "$id"; sep=", "; done
            printf '}\n'
            ;;
        yaml) for column in "${columns[@]}"; do echo "$column: $id"; done ;;
        *)
            echo "| Field | Value |"
            for column in "${columns[@]}"; do echo "| $column | $id |"; done
            ;;
    esac
}

# oslo-config-generator ... [--output-file FILE]: the sample file exists afterwards.
function oslo-config-generator {
    _sd_rec generate oslo-config-generator "$@"
    _sd_rec_generated "$@"    # record_made.sh
}

# env [NAME=VALUE...] COMMAND...: as sudo below (DevStack runs `env apt-get` as root).
function env {
    local -a args=("$@")
    local i=0
    while ((i < ${#args[@]})) && [[ ${args[i]} == *=* || ${args[i]} == -* ]]; do
        ((i += 1))
    done
    if ((i < ${#args[@]})) && [[ $(type -t -- "${args[i]}") == function ]]; then
        "${args[@]:i}"          # the wrapper records it
        return
    fi
    command env "$@"
}

# Commands recorded (chown, chgrp, chmod: looked at) when a hook names them by their full
# path (sudo /bin/systemctl ...).
declare -gA _SD_RECORDED_PATHS=([apt-get]=1 [apt]=1 [yum]=1 [dnf]=1 [zypper]=1 [snap]=1
                                [pip]=1 [pip3]=1 [systemctl]=1 [service]=1 [curl]=1 [wget]=1
                                [modprobe]=1 [insmod]=1 [rmmod]=1
                                [chown]=1 [chgrp]=1 [chmod]=1)

# What reaches a server, a kernel table or the network, which the overlay the hooks run on
# cannot hold (isolation.py): recorded whether or not it is installed here, so that a
# plugin's records are the same on a bare machine and on a DevStack host.
declare -gA _SD_RECORDED_KINDS=(
    [mysql]=database [mysqladmin]=database [psql]=database [createdb]=database
    [dropdb]=database [createuser]=database [dropuser]=database
    [recreate_database]=database [recreate_database_mysql]=database
    [recreate_database_postgresql]=database
    [rabbitmqctl]=queue
    [ovs-vsctl]=ovs [ovs-ofctl]=ovs [ovs-appctl]=ovs [ovs-dpctl]=ovs [ovn-nbctl]=ovs
    [ovn-sbctl]=ovs [ovn-appctl]=ovs [ovn-ic-nbctl]=ovs [ovn-ic-sbctl]=ovs
    [a2ensite]=apache [a2dissite]=apache [a2enmod]=apache [a2dismod]=apache
    [a2enconf]=apache [a2disconf]=apache
    [docker]=container [podman]=container [buildah]=container
    [apt-key]=package [add-apt-repository]=package
    [iptables]=firewall [ip6tables]=firewall [iptables-save]=firewall
    [iptables-restore]=firewall [ip6tables-save]=firewall [ip6tables-restore]=firewall)
for _sd_name in "${!_SD_RECORDED_KINDS[@]}"; do
    eval "function $_sd_name { _sd_rec ${_SD_RECORDED_KINDS[$_sd_name]} $_sd_name \"\$@\"; }"
    _SD_RECORDED_PATHS[$_sd_name]=1
    _SD_RUNTIME_FUNCS[$_sd_name]=1
done
unset _sd_name

# ovs-vsctl: a new machine has no bridges, so that the add-br after a `br-exists` is
# recorded too.
function ovs-vsctl {
    _sd_rec ovs ovs-vsctl "$@"
    [[ " $* " != *" br-exists "* ]] || return 2
}

# tee [OPTIONS] FILE...: writes for real (config files are what a user inspects), into the
# directories a recorded install would have made (/etc/apache2/sites-available...).
function tee {
    local arg
    for arg in "$@"; do
        [[ $arg == -* || $arg == */ ]] || mkdir -p -- "$(dirname -- "$arg")" 2>/dev/null
    done
    command tee "$@"
}

# _sd_rec_package_made chown|chgrp|chmod ARGS...: true when a path it names does not
# exist, or the owner or group it gives names no user or group here: a package this run
# recorded would have made them. (The first word that is no option is the owner, group or
# mode; numeric ids and --reference need no account. OWNER.GROUP is chown's old form, but
# a user whose name has a dot is that user.)
function _sd_rec_package_made {
    local command=$1 arg spec="" owner="" group="" options=1
    shift
    for arg in "$@"; do
        if [[ -n $options ]]; then
            case $arg in
                --) options=""; continue ;;
                --reference*) return 1 ;;
                -*) continue ;;
            esac
        fi
        if [[ -z $spec ]]; then
            spec=$arg
        elif _sd_rec_absent "$arg"; then
            return 0
        fi
    done
    case $command in
        chgrp) group=$spec ;;
        chown)
            if [[ $spec == *:* ]]; then
                owner=${spec%%:*} group=${spec#*:}
            elif [[ $spec == *.* ]] && ! getent passwd "$spec" >/dev/null; then
                owner=${spec%%.*} group=${spec#*.}
            else
                owner=$spec
            fi ;;
    esac
    [[ -n $owner && ! $owner =~ ^[0-9]+$ ]] && ! getent passwd "$owner" >/dev/null && return 0
    [[ -n $group && ! $group =~ ^[0-9]+$ ]] && ! getent group "$group" >/dev/null && return 0
    return 1
}

# _sd_rec_absent PATH: PATH does not exist, as far as anyone can tell: the nearest directory
# above it that exists can be searched (one this user cannot search, /etc/sudoers.d, may
# well hold it: sudo's command then runs).
function _sd_rec_absent {
    local dir=$1
    [[ ! -e $1 && ! -L $1 ]] || return 1
    [[ $dir == /* ]] || dir=./$dir      # each step up removes a /: it ends at . or /
    while dir=${dir%/*}; [[ -n $dir && ! -e $dir ]]; do :; done
    [[ -x ${dir:-/} ]]
}

# sudo [OPTIONS] COMMAND...: recorded when COMMAND is one of the above or does not exist.
# Out of a hook's `set -x` trace, as the sudo it stands for is.
function sudo {
    { local -; set +o xtrace; } 2>/dev/null
    local -a args=("$@")
    local i=0 user=""
    while ((i < ${#args[@]})); do
        case ${args[i]} in
            -u) user=${args[i + 1]:-}; ((i += 2)) ;;
            -g | -C | -h | -p | -U | -r | -t | -T | -D) ((i += 2)) ;;
            --) ((i += 1)); break ;;
            -*) ((i += 1)) ;;
            *) break ;;
        esac
    done
    local first=$i    # VAR=value words, then the command
    while [[ ${args[i]:-} == [A-Za-z_]*([A-Za-z0-9_])=* ]]; do ((i += 1)); done
    local target=${args[i]:-}
    # /bin/systemctl and the like: the recorded command by its full path
    if [[ $target == /* && -n ${_SD_RECORDED_PATHS[${target##*/}]:-} ]]; then
        target=${target##*/}
        args[i]=$target
    fi
    if [[ $target == @(chown|chgrp|chmod) ]]; then
        if _sd_rec_package_made "${args[@]:i}"; then
            _sd_rec package-made sudo "$@"
            return 0
        fi
    elif [[ $target == tee ]]; then
        # as the tee above, with its directories made as root too; then tee runs as root
        local arg
        for arg in "${args[@]:i+1}"; do
            [[ $arg == -* || $arg == */ ]] || sudo mkdir -p -- "$(dirname -- "$arg")" \
                2>/dev/null || :
        done
    elif [[ $target == @(git|make|cp|install|ln) ]]; then
        # recorded only in a recorded clone; else run as root, for real
        if [[ $target == git && ${args[i + 1]:-} == clone ]] || {
                if [[ $target == @(git|make) ]]; then
                    _sd_rec_dir_option -C "${args[@]:i+1}"; _sd_rec_in_clone "$_SD_DIR"
                else
                    _sd_rec_clone_copy "${args[@]:i}"    # record_made.sh
                fi; }; then
            _SD_REC_SUDO=1 "${args[@]:i}"     # the wrapper records it
            return 0
        fi
    elif [[ $target == tar && $first == "$i" && -z $user ]]; then
        _SD_REC_SUDO=1 "${args[@]:i}"     # the wrapper extracts as root, or records
        return
    elif [[ -n $target ]] && { [[ $(type -t -- "$target") == function ]] \
            || ! type -P -- "$target" >/dev/null; }; then
        if [[ $(type -t -- "$target") == function ]]; then
            _SD_REC_SUDO=1 "${args[@]:i}"     # the wrapper records it, and answers
            return
        fi
        _sd_rec missing sudo "$@"
        return 0
    elif _sd_rec_is_standin "$target"; then     # record_made.sh
        _sd_rec stand-in sudo "$@"
        return 0
    fi
    if ! type -P sudo >/dev/null && ((EUID == 0)); then
        # Differs from DevStack (which needs sudo installed): as root on a machine without
        # sudo (a container, a sandbox), the command runs directly, as sudo would run it.
        if [[ -n $user && $user != root && $user != 0 ]]; then
            command runuser -u "$user" -- env "${args[@]:first}"
        else
            command env "${args[@]:first}"
        fi
        return
    fi
    command sudo "$@"
}

# A command that does not exist is recorded, and the hook goes on. A word that cannot be
# a command's name (`[[is_service_enabled`: a missing blank) fails as in bash: recording it
# as a success would turn a condition DevStack finds false into a true one.
function command_not_found_handle {
    local lib=""
    if [[ ! $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.+:@-]*$ ]]; then
        echo "stackdag: $1: command not found (called at ${BASH_SOURCE[1]:-?}:${BASH_LINENO[0]:-?})" >&2
        return 127
    fi
    _sd_devstack_lib "$1" && lib=" (DevStack's $_SD_LIB)"
    _sd_rec missing "$@"
    echo "stackdag: $1: no such command$lib; recorded" >&2
    return 0
}

# _sd_record_scripts DIR: stub console and wsgi scripts for DIR's entry points
# (setup.cfg [entry_points] or pyproject.toml [project.scripts]), where pip would have put
# them; that directory is on PATH.
function _sd_record_scripts {
    local dir=$1 bin line section="" key="" name
    bin=$(get_python_exec_prefix)
    [[ :$PATH: == *:"$bin":* ]] || export PATH=$bin:$PATH
    local -a names=()
    if [[ -r $dir/setup.cfg ]]; then
        while IFS= read -r line; do
            if [[ $line =~ ^\[(.*)\] ]]; then
                section=${BASH_REMATCH[1]}
                key=""
            elif [[ $section == entry_points && $line =~ ^([A-Za-z0-9_.-]+)[[:space:]]*= ]]; then
                key=${BASH_REMATCH[1]}
            elif [[ $section == entry_points && $key == @(console_scripts|wsgi_scripts) \
                    && $line =~ ^[[:space:]]+([A-Za-z0-9_.-]+)[[:space:]]*= ]]; then
                names+=("${BASH_REMATCH[1]}")
            fi
        done < "$dir/setup.cfg"
    fi
    if [[ -r $dir/pyproject.toml ]]; then
        section=""
        while IFS= read -r line; do
            if [[ $line =~ ^\[(.*)\] ]]; then
                section=${BASH_REMATCH[1]}
            elif [[ $section == project.@(scripts|gui-scripts) \
                    && $line =~ ^\"?([A-Za-z0-9_.-]+)\"?[[:space:]]*= ]]; then
                names+=("${BASH_REMATCH[1]}")
            fi
        done < "$dir/pyproject.toml"
    fi
    ((${#names[@]})) || return 0
    _sd_rec_made_dir "$bin" || return 0
    for name in "${names[@]}"; do
        [[ -e $bin/$name ]] && continue
        # as pip would have: as the user in a directory of the user's (a venv), else as root
        _sd_rec_standin "$name" | _sd_rec_writing "$bin/$name"
    done
}

# _sd_record_standins: the config files of in-tree services that are enabled, which no
# step of this stack deploys, exist (empty) so that plugins can iniset into them; with
# what their configure would have set, their checkouts and config directories, the stack
# user's (record_made.sh).
function _sd_record_standins {
    _sd_record_configured   # record_made.sh
    _sd_record_checkouts
    _sd_record_conf_dirs
    local service file
    local -A files=(
        [nova]="${NOVA_CONF:-}" [neutron]="${NEUTRON_CONF:-} ${Q_PLUGIN_CONF_FILE:+/${Q_PLUGIN_CONF_FILE#/}}"
        [cinder]="${CINDER_CONF:-}" [glance]="${GLANCE_API_CONF:-}"
        [keystone]="${KEYSTONE_CONF:-}" [placement]="${PLACEMENT_CONF:-}"
        [tempest]="${TEMPEST_CONFIG:-}" [swift]="${SWIFT_CONF_DIR:+$SWIFT_CONF_DIR/swift.conf}")
    for service in "${!files[@]}"; do
        is_service_enabled "$service" || continue
        for file in ${files[$service]}; do
            [[ -e $file ]] && continue
            _sd_rec_made_file "$file" 2>/dev/null \
                || echo "stackdag: record mode: cannot create $file" >&2
        done
    done
}

_SD_RUNTIME_FUNCS+=(
    [_sd_rec_where]=1 [_sd_rec]=1 [apt-get]=1 [apt]=1 [aptitude]=1
    [yum]=1 [dnf]=1 [zypper]=1 [snap]=1 [pip]=1 [pip3]=1 [systemctl]=1 [service]=1
    [curl]=1 [wget]=1 [git]=1 [openstack]=1 [oslo-config-generator]=1 [sudo]=1 [env]=1 [tee]=1
    [_sd_record_scripts]=1 [_sd_record_standins]=1 [_sd_rec_clone_made]=1
    [_sd_rec_in_clone]=1 [_sd_rec_dir_option]=1 [_sd_rec_package_made]=1 [_sd_rec_absent]=1
    [make]=1 [modprobe]=1 [insmod]=1 [rmmod]=1
    [wait_for_service]=1 [wait_for_compute]=1
)

source "$_SD_RUNTIME_DIR/record_made.sh"    # what recorded actions would have made
