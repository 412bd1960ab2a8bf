#!/bin/bash
# What stack.sh, unstack.sh and clean.sh do inline, as functions the stage table
# (stackdag/stages.toml) calls: written for stackdag from reading DevStack (its behaviour,
# not its code). Sourced by devstack.sh, after DevStack's own libraries: these functions
# call DevStack's. Up to the plugins' install here; the rest in stages_late.sh. A stage's step runs its script inside a function, so `return` ends it.

# _sd_stage_applied localrc | override-defaults FILE PLUGIN: what every step's base applied
# (devstack.sh: stackrc sources the settings; a plugin's override-defaults come before the
# lib/* files), said as DevStack says it.
function _sd_stage_applied {
    if [[ $1 == localrc ]]; then
        echo "stackdag: DevStack's stackrc sources these settings (.localrc.auto) in every step"
    else
        echo "$3 has overridden the following defaults"
        cat "$2"
    fi
}

# _sd_stage_restart STEP: restart the services STEP started (after a post-config merge into
# their configuration).
function _sd_stage_restart {
    local pidfile step name
    for pidfile in "$STACKDAG_PIDS_DIR"/*.pid; do
        [[ -r $pidfile ]] || continue
        { read -r _ && read -r step; } < "$pidfile" || continue
        [[ $step == "$1" ]] || continue
        name=${pidfile##*/}
        name=${name%.pid}
        echo_summary "Restarting $name: its configuration changed"
        stop_process "$name"
        start_recorded "$name"
    done
}

# _sd_stage_url SERVICE URL: where SERVICE answers, for `stackdag status` (a service its
# stage did not start, being disabled, gets none).
function _sd_stage_url {
    [[ -e $STACKDAG_PIDS_DIR/$1.pid || -e $STACKDAG_PIDS_DIR/$1.unit ]] || return 0
    echo "$2" > "$STACKDAG_PIDS_DIR/$1.url"
}

# _sd_stage_skip WHAT: the stage's condition does not hold now (the plan thought it would,
# or only the run can tell): say so in its log, and the step succeeds without running.
function _sd_stage_skip {
    echo "stackdag: skipped: $1 does not hold"
}

# _sd_stage_optional FUNCTION ARGS...: run FUNCTION when this DevStack defines it (the
# table knows it from a newer DevStack than the checkout).
function _sd_stage_optional {
    if declare -F "$1" >/dev/null; then
        "$@"
    else
        echo "stackdag: this DevStack has no $1; skipped (stackdag's stage table knows it)"
    fi
}

# _sd_stage_lenient STATUS FUNCTION: unstack.sh ignores this function's failure; so does
# its stage, saying so.
function _sd_stage_lenient {
    echo "stackdag: $2 failed with status $1; ignored, as unstack.sh does"
}

# --- before anything is installed --------------------------------------------------------

# _sd_stack_prepare: the host as stack.sh prepares it before it installs anything.
function _sd_stack_prepare {
    write_devstack_version
    _sd_stack_distro_check
    _sd_stack_sudoers
    if is_ubuntu; then
        echo 'APT::Acquire::Retries "20";' | sudo tee /etc/apt/apt.conf.d/80retry >/dev/null
    fi
    if is_fedora; then
        echo "stackdag: RHEL's extra repositories (EPEL, RDO) are not set up by stackdag;" \
             "set them up as DevStack's stack.sh does before you stack"
    fi
    _sd_stack_own_dir "$DEST"
    [[ -z ${LOGDIR:-} ]] || _sd_stack_own_dir "$LOGDIR" always
    _sd_stack_own_dir "$DATA_DIR"
    mkdir -p "$DEST/async"
    _sd_stack_hostname
    install_python
    check_path_perm_sanity "$DEST"
    rm -f "$SSL_BUNDLE_FILE"
    tune_host
    save_stackenv "$LINENO"
}

# _sd_stack_distro_check: stack.sh's list of supported distributions, read from the
# checkout's stack.sh; another one needs FORCE=yes.
function _sd_stack_distro_check {
    local supported
    supported=$(sed -n 's/^SUPPORTED_DISTROS="\(.*\)"$/\1/p' "$TOP_DIR/stack.sh")
    [[ -n $supported && ! ${DISTRO:-} =~ $supported ]] || return 0
    echo "WARNING: this script has not been tested on $DISTRO"
    [[ ${FORCE:-} == yes ]] || die $LINENO "If you wish to run this script anyway run with FORCE=yes"
}

# _sd_stack_sudoers: sudo present, /etc/sudoers.d read, and STACK_USER's own rules (no
# password, a secure_path with the sbin directories, no requiretty but with sudo-rs).
function _sd_stack_sudoers {
    is_package_installed sudo || is_package_installed sudo-ldap || install_package sudo
    sudo grep -q "^#includedir.*/etc/sudoers.d" /etc/sudoers \
        || echo "#includedir /etc/sudoers.d" | sudo tee -a /etc/sudoers >/dev/null
    local rules
    rules=$(mktemp)
    if [[ -n ${LOG_SUDO:-} ]]; then
        echo "Defaults log_output" > "$rules"
        _sd_stack_install_sudoers "$rules" 00_logging
        rules=$(mktemp)
    fi
    {
        echo "$STACK_USER ALL=(root) NOPASSWD:ALL"
        echo "Defaults:$STACK_USER secure_path=/sbin:/usr/sbin:/usr/bin:/bin:/usr/local/sbin:/usr/local/bin"
        is_sudo_rs || echo "Defaults:$STACK_USER !requiretty"
    } > "$rules"
    _sd_stack_install_sudoers "$rules" 50_stack_sh
}

# _sd_stack_install_sudoers FILE NAME: FILE becomes /etc/sudoers.d/NAME (root's, 0440).
function _sd_stack_install_sudoers {
    chmod 0440 "$1"
    sudo chown root:root "$1"
    sudo mv "$1" "/etc/sudoers.d/$2"
}

# _sd_stack_own_dir DIR [always]: DIR exists, STACK_USER's and readable by all (a daemon
# such as apache reads under DEST). An existing DIR is left as it is, unless "always".
function _sd_stack_own_dir {
    [[ -n ${2:-} || ! -d $1 ]] || return 0
    sudo mkdir -p "$1"
    safe_chown -R "$STACK_USER" "$1"
    safe_chmod 0755 "$1"
}

# _sd_stack_hostname: the short host name resolves (rabbitmq needs it).
function _sd_stack_hostname {
    local name
    name=$(hostname -s)
    grep -Fqwe "$name" /etc/hosts || sudo sed -i "s/\(^127.0.0.1.*\)/\1 $name/" /etc/hosts
}

# _sd_stack_requirements: openstack/requirements, always whole (its history serves the
# constraints of stable branches).
function _sd_stack_requirements {
    GIT_DEPTH=0 git_clone "$REQUIREMENTS_REPO" "$REQUIREMENTS_DIR" "$REQUIREMENTS_BRANCH"
}

# _sd_stack_prereqs: the distribution packages of DevStack itself and of every enabled
# service (files/debs or files/rpms). The plugins' own lists are their packages:<plugin>
# steps. Differs from DevStack: no .prereqs marker (the step itself is incremental).
function _sd_stack_prereqs {
    echo_summary "Installing package prerequisites"
    export_proxy_variables
    local packages
    packages=$(get_packages "general,$ENABLED_SERVICES")
    if is_ubuntu && [[ $packages == *dkms* ]]; then
        packages+=" linux-headers-$(uname -r)"
    fi
    # shellcheck disable=SC2086
    install_package $packages
    if [[ -n ${SYSLOG:-} && $SYSLOG != False ]]; then
        if is_ubuntu || is_fedora; then
            install_package rsyslog-relp
        else
            exit_distro_not_supported "rsyslog-relp installation"
        fi
    fi
    PYTHON=$(which "python${PYTHON3_VERSION}" 2>/dev/null || which python3 2>/dev/null)
    export PYTHON
}

# _sd_stack_pip: pip itself (unless OFFLINE), then DevStack's fixes for the distribution.
function _sd_stack_pip {
    if [[ $OFFLINE != True ]]; then
        PYPI_ALTERNATIVE_URL=${PYPI_ALTERNATIVE_URL:-} "$TOP_DIR/tools/install_pip.sh"
    fi
    source "$TOP_DIR/tools/fixup_stuff.sh"
    fixup_all
}

# _sd_stack_venv: the global virtualenv (GLOBAL_VENV) with its commands linked into
# /usr/local/bin, os-testr, and journald's rate limit lifted (where systemd runs).
function _sd_stack_venv {
    if [[ $GLOBAL_VENV == True ]]; then
        local command
        for command in cinder-manage cinder-rtstool glance nova-manage openstack \
                privsep-helper rally tox; do
            sudo ln -sf "$DEVSTACK_VENV/bin/$command" /usr/local/bin
        done
        setup_devstack_virtualenv
    fi
    pip_install -U os-testr
    if _sd_systemd; then
        iniset -sudo /etc/systemd/journald.conf "Journal" "RateLimitBurst" "0"
        sudo systemctl restart systemd-journald
    else
        echo "stackdag: no systemd here: journald's rate limit is left alone"
    fi
}

# _sd_stack_bindep: bindep in a virtualenv of its own, for the plugins' bindep.txt.
function _sd_stack_bindep {
    $VIRTUALENV_CMD "$DEST/bindep-venv"
    "$DEST/bindep-venv/bin/pip" install bindep
    export BINDEP_CMD=$DEST/bindep-venv/bin/bindep
}

# --- the installs -----------------------------------------------------------------------

# _sd_stack_nofile_limit: services' open-file limit, set before anything is installed
# (systemd's default, where systemd runs).
function _sd_stack_nofile_limit {
    if _sd_systemd; then
        set_systemd_override DefaultLimitNOFILE "$ULIMIT_NOFILE"
    fi
}

# _sd_stack_swift_neutron_clients: the swift and neutron clients, for whoever uses them.
function _sd_stack_swift_neutron_clients {
    if is_service_enabled swift glance horizon; then
        install_swiftclient
    fi
    if is_service_enabled neutron nova horizon; then
        install_neutronclient
    fi
}

# _sd_stack_ceilometer_middleware: swift's pipeline gets ceilometer's middleware.
function _sd_stack_ceilometer_middleware {
    if is_service_enabled ceilometer; then
        install_ceilometermiddleware
    fi
}

# _sd_stack_s3_port: with s3api, S3 is swift's port.
function _sd_stack_s3_port {
    if is_service_enabled s3api; then
        S3_SERVICE_PORT=8080
    fi
}
