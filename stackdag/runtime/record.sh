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
#   downloads                     curl/wget leave an empty output file; checksum checks
#                                 of one (record_fetch.sh)
#   clones of other repositories  git_clone / `git clone` leave an empty checkout; git and
#                                 make run in that checkout are recorded too
#   kernel modules, mounts        modprobe, insmod, rmmod, mount, umount
#   waiting for a service         wait_for_service, wait_for_compute, test_with_retry (neutron's
#                                 start), OVN's wait_for_sock_file and wait_for_db_file
#                                 (nothing was started)
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
    { local -; set +o xtrace; } 2>/dev/null
    local kind=$1 command
    shift
    _sd_rec_where
    printf -v command '%q ' "$@"
    printf '%s\t%s\t%s\n' "$kind" "$_SD_WHERE" "${command% }" >> "${STACKDAG_RECORDS:-/dev/null}"
    echo "stackdag: recorded, not run: ${command% }" >&2
}

function curl {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec download curl "$@"
    _sd_rec_fetched curl "$@"     # record_fetch.sh
}

function wget {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec download wget "$@"
    _sd_rec_fetched wget "$@"
}

# run_process NAME CMD...: what it would start, when NAME is enabled.
function run_process {
    is_service_enabled "${1:-}" || return 0
    _sd_rec process run_process "$@"
}

# oslo-config-generator ... [--output-file FILE]: the sample file exists afterwards.
function oslo-config-generator {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec generate oslo-config-generator "$@"
    _sd_rec_generated "$@"    # record_made.sh
}

# env [NAME=VALUE...] COMMAND...: as sudo (record_sudo.sh) (DevStack runs `env apt-get` as root).
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
# path (sudo /bin/systemctl ...): these, and the recorders of one line below.
declare -gA _SD_RECORDED_PATHS=([curl]=1 [wget]=1 [chown]=1 [chgrp]=1 [chmod]=1 [mount]=1)

# The recorders of one line, by kind: package managers and pip, service managers, kernel
# modules, waits for a service (record mode started nothing: waiting would time out and fail
# the hook); and what reaches a server, a kernel table or the network, which the overlay
# the hooks run on cannot hold (isolation.py): recorded whether or not it is installed
# here, so that a plugin's records are the same on a bare machine and on a DevStack host.
# Each is out of a hook's `set -x` trace (a recorder's work is stackdag's: the trace shows
# the hook's call, as it would the command's).
declare -gA _SD_RECORDED_KINDS=(
    [apt-get]=package [apt]=package [aptitude]=package [yum]=package [dnf]=package
    [zypper]=package [snap]=package [pip]=pip [pip3]=pip [systemctl]=service
    [service]=service [modprobe]=kernel [insmod]=kernel [rmmod]=kernel [umount]=kernel
    [wait_for_service]=wait [wait_for_compute]=wait
    [wait_for_sock_file]=wait [wait_for_db_file]=wait [test_with_retry]=wait
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
    eval "function $_sd_name { { local -; set +o xtrace; } 2>/dev/null
        _sd_rec ${_SD_RECORDED_KINDS[$_sd_name]} $_sd_name \"\$@\"; }"
    _SD_RECORDED_PATHS[$_sd_name]=1
    _SD_RUNTIME_FUNCS[$_sd_name]=1
done
unset _sd_name

# ovs-vsctl: a new machine has no bridges, so that the add-br after a `br-exists` is
# recorded too.
function ovs-vsctl {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec ovs ovs-vsctl "$@"
    [[ " $* " != *" br-exists "* ]] || return 2
}

# mount DEVICE|DIR...: mounts are the kernel's, beyond the overlay (etcd3's tmpfs failed
# with "permission denied" in the isolation); umount is a recorder of one line above. A
# mount with only options lists the mounts (`mount -n | grep`): it runs.
function mount {
    { local -; set +o xtrace; } 2>/dev/null
    local arg
    for arg in "$@"; do
        if [[ $arg != -* ]]; then
            _sd_rec kernel mount "$@"
            return 0
        fi
    done
    command mount "$@"
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
# them; that directory is on PATH. A script there already (an earlier real stack's venv) is
# replaced, as pip would replace it, in the overlay: a run on a DevStack host records what
# a bare machine records, and `keystone-manage db_sync` reaches no database.
function _sd_record_scripts {
    { local -; set +o xtrace; } 2>/dev/null
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
        # [project.scripts], or the groups as entry points ([project.entry-points.
        # "console_scripts"]: magnum's, as pbr's setup.cfg had them)
        local groups='^project\.(scripts|gui-scripts|entry-points\."?(console|wsgi)_scripts"?)$'
        section=""
        while IFS= read -r line; do
            if [[ $line =~ ^\[(.*)\] ]]; then
                section=${BASH_REMATCH[1]}
            elif [[ $section =~ $groups && $line =~ ^\"?([A-Za-z0-9_.-]+)\"?[[:space:]]*= ]]
            then
                names+=("${BASH_REMATCH[1]}")
            fi
        done < "$dir/pyproject.toml"
    fi
    ((${#names[@]})) || return 0
    _sd_rec_made_dir "$bin" || return 0
    for name in "${names[@]}"; do
        ! _sd_rec_standin_file "$bin/$name" || continue
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
    [_sd_rec_where]=1 [_sd_rec]=1
    [curl]=1 [wget]=1
    [oslo-config-generator]=1 [env]=1 [tee]=1
    [_sd_record_scripts]=1 [_sd_record_standins]=1 [mount]=1
)

source "$_SD_RUNTIME_DIR/record_cloud.sh"   # the openstack CLI, on a cloud of fake ids
source "$_SD_RUNTIME_DIR/record_clones.sh"  # clones, and git and make in them
source "$_SD_RUNTIME_DIR/record_sudo.sh"    # sudo of what is recorded
source "$_SD_RUNTIME_DIR/record_fetch.sh"   # what downloads would have written
source "$_SD_RUNTIME_DIR/record_made.sh"    # what recorded actions would have made
