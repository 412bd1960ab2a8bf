#!/bin/bash
# Record mode, continued (sourced by record.sh): what a recorded action would have made
# exists, made for whom DevStack would have made it, so that the hooks after it work as
# they would after a real install, run as root or as DevStack's `stack` user with sudo:
#   in-tree services' config files  $NOVA_CONF, $CINDER_CONF...: in a directory DevStack
#                                   makes with `sudo install -d -o $STACK_USER`, the
#                                   file the stack user's (plugins iniset into them)
#   in-tree services' checkouts     $HORIZON_DIR...: recorded clones, as DevStack clones
#                                   them; cp, install and ln into or out of a recorded
#                                   clone (under sudo too) are recorded: the content is not
#                                   there (heat-dashboard copies into horizon's)
#   downloads                       record_fetch.sh (stand-ins of what they wrote)
#   commands pip would install      oslo-config-generator, a command on PATH (scripts a
#                                   hook runs, #!/bin/sh ones too, call it)

# _sd_rec_root CMD...: the program CMD (not a recorder of that name) as root: record mode
# runs as root or with sudo.
function _sd_rec_root {
    if ((EUID == 0)); then
        command "$@"
    else
        command sudo -n "$@"
    fi
}

# _sd_rec_owner: _SD_OWNER = install's option for STACK_USER (the user, where a runtime
# sourced on its own has no STACK_USER), or none.
function _sd_rec_owner {
    _SD_OWNER=()
    [[ -z ${STACK_USER:-${USER:-}} ]] || _SD_OWNER=(-o "${STACK_USER:-$USER}")
}

# _sd_rec_as_called CMD...: the program CMD as the recorded command would have run it: as
# root under sudo (the sudo wrapper says so in _SD_REC_SUDO), else as the user.
function _sd_rec_as_called {
    if [[ -n ${_SD_REC_SUDO:-} ]]; then
        _sd_rec_root "$@"
    else
        command "$@"
    fi
}

# _sd_rec_standin WHAT: a stand-in's text, for what a recorded install or download would
# have provided: a script that, if it is run, says so and is recorded (STACKDAG_RECORDS
# is in a step's environment; sudo's record is the sudo wrapper's: _sd_rec_is_standin).
function _sd_rec_standin {
    printf '#!/bin/sh\n# stackdag record mode: a stand-in for %s\n' "$1"
    printf '%s\n' 'echo "stackdag: recorded, not run: $0 $*" >&2' \
        '[ -z "$STACKDAG_RECORDS" ] ||' \
        '    printf '"'"'stand-in\t%s\t%s\n'"'"' "$0" "$0 $*" >> "$STACKDAG_RECORDS"'
}

# _sd_rec_is_standin COMMAND: COMMAND (a path, or a name on PATH) is a stand-in.
function _sd_rec_is_standin {
    local file
    file=$(type -P -- "$1") && _sd_rec_standin_file "$file"
}

# _sd_rec_standin_file FILE: FILE is a stand-in (executable or not: a download's).
function _sd_rec_standin_file {
    local line=""
    { read -r line && read -r line; } < "$1" 2>/dev/null
    [[ $line == "# stackdag record mode: a stand-in for "* ]]
}

# _sd_rec_writing FILE: standard input into FILE, executable: as the user where its
# directory is the user's to write, else as root.
function _sd_rec_writing {
    if ((EUID != 0)) && [[ -w ${1%/*} ]]; then
        command install -m 755 /dev/stdin "$1"
    else
        _sd_rec_root install -m 755 /dev/stdin "$1"
    fi
}

# _sd_rec_made_dir DIR: DIR exists, as DevStack makes a service's directories: each one
# missing under a directory the user may not write is made STACK_USER's (`sudo install -d
# -o $STACK_USER /etc/nova`), those under it by STACK_USER.
function _sd_rec_made_dir {
    local dir=${1%/} parent
    local -a missing=()
    _sd_rec_owner
    while [[ -n $dir && ! -e $dir && ! -L $dir ]]; do
        missing=("$dir" "${missing[@]}")
        [[ $dir == */* ]] || break
        dir=${dir%/*}
    done
    for dir in "${missing[@]}"; do
        parent=${dir%/*}
        [[ $dir == */* ]] || parent=.
        if ((EUID != 0)) && [[ -w ${parent:-/} ]]; then
            mkdir -- "$dir"
        else
            _sd_rec_root install -d "${_SD_OWNER[@]}" -- "$dir"
        fi || return 1
    done
}

# _sd_rec_made_file FILE: FILE exists, empty if it did not, STACK_USER's.
function _sd_rec_made_file {
    [[ -e $1 ]] && return 0
    _sd_rec_made_dir "$(dirname -- "$1")" || return 1
    if ((EUID != 0)) && [[ -w $(dirname -- "$1") ]]; then
        : > "$1"
    else
        _sd_rec_owner
        _sd_rec_root install "${_SD_OWNER[@]}" -m 644 /dev/null "$1"
    fi
}

# _sd_record_configured: what an in-tree service's configure would have set, which plugins
# read, where no step of this stack configures it (with [stack] devstack, DevStack's
# lib/neutron sets Q_PLUGIN_CONF_FILE in configure_neutron, for ML2 unless Q_PLUGIN says
# otherwise: networking-bagpipe isets /$Q_PLUGIN_CONF_FILE).
function _sd_record_configured {
    if [[ -z ${Q_PLUGIN_CONF_FILE:-} ]] && is_service_enabled neutron; then
        Q_PLUGIN_CONF_FILE=${Q_PLUGIN_CONF_PATH:-etc/neutron/plugins/ml2}
        Q_PLUGIN_CONF_FILE+=/${Q_PLUGIN_CONF_FILENAME:-ml2_conf.ini}
        NEUTRON_CORE_PLUGIN_CONF=${NEUTRON_CORE_PLUGIN_CONF:-$Q_PLUGIN_CONF_FILE}
    fi
}

# _sd_record_conf_dirs: the config directories of the in-tree services that are enabled
# are the stack user's, made so or given to them, as each service's configure does
# (`sudo install -d -o $STACK_USER $NOVA_CONF_DIR`): the stand-ins go in them, and plugins
# write their own files there.
function _sd_record_conf_dirs {
    local service dir
    local -A dirs=([nova]=${NOVA_CONF_DIR:-} [neutron]=${NEUTRON_CONF_DIR:-}
                   [cinder]=${CINDER_CONF_DIR:-} [glance]=${GLANCE_CONF_DIR:-}
                   [keystone]=${KEYSTONE_CONF_DIR:-} [placement]=${PLACEMENT_CONF_DIR:-}
                   [swift]=${SWIFT_CONF_DIR:-} [tempest]=${TEMPEST_CONFIG_DIR:-})
    for service in "${!dirs[@]}"; do
        dir=${dirs[$service]}
        [[ -n $dir ]] && ! [[ -d $dir && -O $dir ]] && is_service_enabled "$service" \
            || continue
        if [[ -d $dir ]]; then
            _sd_rec_owner
            _sd_rec_root install -d "${_SD_OWNER[@]}" -- "$dir"
        else
            _sd_rec_made_dir "$dir"
        fi 2>/dev/null || echo "stackdag: record mode: cannot create $dir" >&2
    done
}

# _sd_record_checkouts: the checkouts of the in-tree services that are enabled, which no
# step of this stack clones, exist as recorded clones (empty, as DevStack's git_clone
# would have left them full).
function _sd_record_checkouts {
    local service dir
    local -A dirs=([nova]=${NOVA_DIR:-} [neutron]=${NEUTRON_DIR:-} [cinder]=${CINDER_DIR:-}
                   [glance]=${GLANCE_DIR:-} [keystone]=${KEYSTONE_DIR:-}
                   [placement]=${PLACEMENT_DIR:-} [swift]=${SWIFT_DIR:-}
                   [horizon]=${HORIZON_DIR:-} [tempest]=${TEMPEST_DIR:-})
    for service in "${!dirs[@]}"; do
        dir=${dirs[$service]}
        [[ -n $dir && ! -e $dir ]] && is_service_enabled "$service" || continue
        { _sd_rec_made_dir "$dir" && _sd_rec_clone_made "$dir"; } 2>/dev/null \
            || echo "stackdag: record mode: cannot create $dir" >&2
    done
}

# _sd_rec_dest_links: path plugins' links at DEST/<name>, where DEST is outside the
# workspace: made here, isolated, not on the machine (stackdag/destlinks.py); a place
# something else than a link holds is left to it, as there.
function _sd_rec_dest_links {
    local place target
    while IFS=$'\t' read -r place target; do
        [[ -n $place ]] || continue
        if [[ -L $place ]]; then
            [[ $(readlink -- "$place") != "$target" ]] || continue
        elif [[ -e $place ]]; then
            continue
        fi
        _sd_rec_made_dir "${place%/*}" 2>/dev/null || continue
        if [[ -w ${place%/*} ]]; then
            command ln -sfn -- "$target" "$place"
        else
            _sd_rec_root ln -sfn -- "$target" "$place"
        fi 2>/dev/null || :
    done <<< "${STACKDAG_DEST_LINKS:-}"
}

# --- cp, install and ln of a recorded clone's content -----------------------------------
# (out of a hook's `set -x` trace, as the commands they stand for are)

# _sd_rec_clone_copy cp|install|ln ARGS...: true when the command works on what a recorded
# clone would hold: a source in one that is not there, or a destination in one whose
# directory is not there; or on what a recorded action would have filled: a source there
# that is not (_sd_rec_in_filled). (ln's sources are link targets: a missing one is no
# matter.)
function _sd_rec_clone_copy {
    local command=$1 arg value="" target="" dirs=""
    shift
    local -a operands=()
    _SD_COPY_MODE=""
    for arg in "$@"; do
        if [[ -n $value ]]; then
            [[ $value == -t ]] && target=$arg
            [[ $value == -m ]] && _SD_COPY_MODE=$arg
            value=""
        elif [[ $arg == @(-t|-S|-m|-o|-g) ]]; then
            value=$arg
        elif [[ $arg == @(-t?*|--target-directory=*) ]]; then
            target=${arg#-t}
            target=${target#--target-directory=}
        elif [[ $arg == -d || $arg == --directory ]]; then
            dirs=1
        elif [[ $arg != -* ]]; then
            operands+=("$arg")
        fi
    done
    [[ -z $dirs ]] || return 1      # install -d makes directories: nothing is copied
    local n=${#operands[@]} i
    # for _sd_rec_copy_made: the sources, the destination, whether it is a directory (-t)
    _SD_COPY_INTO=${target:+1} _SD_COPY_DEST=$target _SD_COPY_SOURCES=("${operands[@]}")
    if [[ -z $target ]] && ((n > 1)); then
        _SD_COPY_DEST=${operands[n - 1]}
        _SD_COPY_SOURCES=("${operands[@]:0:n-1}")
    fi
    if [[ -z $target ]] && ((n > 1)); then
        target=${operands[n - 1]}
        ((n -= 1))
        # a file as the destination: its directory must be there
        if [[ ${target: -1} != / ]] && ((n == 1)); then
            [[ $target == */* ]] && target=${target%/*} || target=.
        fi
    fi
    if [[ -n $target && ! -d $target ]] && _sd_rec_in_clone_path "$target"; then
        return 0
    fi
    [[ $command != ln ]] || return 1
    for ((i = 0; i < n; i++)); do
        [[ ! -e ${operands[i]} ]] || continue
        _sd_rec_in_clone_path "${operands[i]}" || _sd_rec_in_filled "${operands[i]}" \
            && return 0
    done
    return 1
}

# _sd_rec_in_clone_path PATH: PATH, which need not exist, is in a recorded clone: the
# nearest directory above it that exists is (_sd_rec_in_clone).
function _sd_rec_in_clone_path {
    local dir=$1
    [[ $dir == /* ]] || dir=./$dir
    while [[ -n $dir && ! -d $dir ]]; do dir=${dir%/*}; done
    _sd_rec_in_clone "${dir:-/}"
}

# _sd_rec_copied cp|install|ln ARGS...: recorded (true) when it is such a copy, else false:
# the program runs then, from its wrapper (a failure report names it as the hook wrote it).
function _sd_rec_copied {
    _sd_rec_clone_copy "$@" || return 1
    _sd_rec copy "$@"
    [[ $1 == ln ]] || _sd_rec_copy_made
    return 0
}

# _sd_rec_copy_made: what a recorded copy would have written exists (configure_rootwrap
# then edits /etc/cinder/rootwrap.conf with sed -i): each source a name (no pattern: what
# it matches is not known), into the directory (-t, or one that exists), else the one
# destination; where its directory is there, or in a recorded clone (horizon's
# local_settings.py, then appended to). Empty, or a stand-in where install's mode makes it
# executable; as the copy would have run (root's under sudo).
function _sd_rec_copy_made {
    local source
    local -a files=()
    if [[ -n $_SD_COPY_INTO || -d $_SD_COPY_DEST || $_SD_COPY_DEST == */ ]]; then
        for source in "${_SD_COPY_SOURCES[@]}"; do
            [[ $source == *[][*?]* ]] || files+=("${_SD_COPY_DEST%/}/${source##*/}")
        done
    elif ((${#_SD_COPY_SOURCES[@]} == 1)) && [[ ${_SD_COPY_SOURCES[0]} != *[][*?]* ]]; then
        files=("$_SD_COPY_DEST")
    fi
    for source in "${files[@]}"; do
        [[ ! -e $source ]] || continue
        if [[ ! -d $(dirname -- "$source") ]]; then     # in a clone, its content's
            _sd_rec_in_clone_path "$source" \
                && _sd_rec_as_called mkdir -p -- "$(dirname -- "$source")" || continue
        fi
        if [[ $_SD_COPY_MODE =~ ^[0-7]+$ ]] && ((8#$_SD_COPY_MODE & 8#111)); then
            _sd_rec_standin "copy ${source##*/}" \
                | _sd_rec_as_called install -m "$_SD_COPY_MODE" /dev/stdin "$source"
        else
            _sd_rec_as_called touch -- "$source"
        fi 2>/dev/null || :
    done
}

function cp { { local -; set +o xtrace; } 2>/dev/null; _sd_rec_copied cp "$@" || command cp "$@"; }
function ln { { local -; set +o xtrace; } 2>/dev/null; _sd_rec_copied ln "$@" || command ln "$@"; }
function install {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec_copied install "$@" || command install "$@"
}

# _sd_rec_generated ARGS...: oslo-config-generator's output file exists, empty: its
# --output-file, else each --config-file's [DEFAULT] output_file (taas's
# tools/generate_config_file_samples.sh gives only --config-file=etc/.../taas.ini).
function _sd_rec_generated {
    local arg previous="" line
    local -a outputs=() configs=()
    for arg in "$@"; do
        case $previous in
            --output-file) outputs+=("$arg") ;;
            --config-file) configs+=("$arg") ;;
        esac
        case $arg in
            --output-file=*) outputs+=("${arg#*=}") ;;
            --config-file=*) configs+=("${arg#*=}") ;;
        esac
        previous=$arg
    done
    if ((${#outputs[@]} == 0)); then
        for arg in "${configs[@]}"; do
            while IFS= read -r line; do
                [[ $line =~ ^output_file[[:space:]]*=[[:space:]]*(.*[^[:space:]]) ]] \
                    && outputs+=("${BASH_REMATCH[1]}")
            done < "$arg" 2>/dev/null
        done
    fi
    for arg in "${outputs[@]}"; do
        { _sd_rec_as_called mkdir -p -- "$(dirname -- "$arg")" \
            && _sd_rec_as_called touch -- "$arg"; } 2>/dev/null || :
    done
}

# --- commands pip would have installed, for scripts too ---------------------------------

# Scripts a hook runs (tools/generate_config_file_samples.sh, #!/bin/sh) find these on
# PATH (STACKDAG_RECORD_BIN, first on a record-mode run's PATH: shell.py): each sources
# this runtime and calls the recorder of its name, and its record names the script that
# ran it.
_SD_REC_COMMANDS=(oslo-config-generator)

# _sd_rec_commands: the commands above exist in STACKDAG_RECORD_BIN.
function _sd_rec_commands {
    local name
    [[ -n ${STACKDAG_RECORD_BIN:-} ]] || return 0
    for name in "${_SD_REC_COMMANDS[@]}"; do
        [[ -x $STACKDAG_RECORD_BIN/$name ]] && continue
        mkdir -p -- "$STACKDAG_RECORD_BIN" \
            && printf '#!/bin/bash\nsource %q\n_sd_rec_called_by\n%q "$@"\n' \
                "$_SD_RUNTIME_DIR/functions.sh" "$name" > "$STACKDAG_RECORD_BIN/$name" \
            && chmod +x -- "$STACKDAG_RECORD_BIN/$name"
    done
}

# _sd_rec_called_by: records are placed in the script that ran this command (a command
# has no line of the hook's to name).
function _sd_rec_called_by {
    local -a words=()
    mapfile -d '' -t words < "/proc/$PPID/cmdline" 2>/dev/null
    _SD_REC_CALLER=${words[1]:-${words[0]:-?}}
    [[ $_SD_REC_CALLER == /* ]] || _SD_REC_CALLER=$(readlink "/proc/$PPID/cwd")/$_SD_REC_CALLER
    function _sd_rec_where { _SD_WHERE=$_SD_REC_CALLER; }
}

_SD_RUNTIME_FUNCS+=(
    [_sd_rec_root]=1 [_sd_rec_as_called]=1 [_sd_rec_standin]=1 [_sd_rec_is_standin]=1
    [_sd_rec_standin_file]=1
    [_sd_rec_writing]=1 [_sd_rec_owner]=1
    [_sd_rec_made_dir]=1 [_sd_rec_made_file]=1 [_sd_record_checkouts]=1
    [_sd_record_conf_dirs]=1 [_sd_record_configured]=1 [_sd_rec_dest_links]=1
    [_sd_rec_clone_copy]=1 [_sd_rec_in_clone_path]=1 [_sd_rec_copied]=1 [_sd_rec_copy_made]=1
    [cp]=1 [install]=1
    [ln]=1
    [_sd_rec_generated]=1 [_sd_rec_commands]=1 [_sd_rec_called_by]=1
)
_sd_rec_commands
_sd_rec_dest_links
