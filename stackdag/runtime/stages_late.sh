#!/bin/bash
# What stack.sh does inline after the plugins' install (the client, syslog, the services'
# start, the post-config work and the checks), and what unstack.sh and clean.sh do inline,
# as functions the stage table (stackdag/stages.toml) calls: the rest of stages.sh, sourced
# after it by devstack.sh. Written for stackdag from reading DevStack (its behaviour, not its
# code).

# --- after the plugins' install -----------------------------------------------------------

# _sd_stack_openstackclient: the client every later step uses, from git or PyPI.
function _sd_stack_openstackclient {
    if use_library_from_git python-openstackclient; then
        git_clone_by_name python-openstackclient
        setup_dev_lib python-openstackclient
    else
        pip_install_gr python-openstackclient
        if is_service_enabled openstack-cli-server; then
            install_openstack_cli_server
        fi
    fi
}

# _sd_stack_syslog: rsyslog receives (on SYSLOG_HOST) or forwards the services' logs over
# RELP, with its rate limits lifted.
function _sd_stack_syslog {
    if [[ $SYSLOG_HOST == "$HOST_IP" ]]; then
        printf '$ModLoad imrelp\n$InputRELPServerRun %s\n' "$SYSLOG_PORT" \
            | sudo tee /etc/rsyslog.d/90-stack-m.conf >/dev/null
    else
        printf '*.*\t\t:omrelp:%s:%s\n' "$SYSLOG_HOST" "$SYSLOG_PORT" \
            | sudo tee /etc/rsyslog.d/90-stack-s.conf >/dev/null
    fi
    local conf=/etc/rsyslog.conf setting
    if [[ -f $conf ]]; then
        sudo cp -b "$conf" "$conf.bak"
        for setting in SystemLogRateLimitBurst SystemLogRateLimitInterval; do
            if grep -q "\$$setting" "$conf"; then
                sudo sed -i "s/\$$setting .*/\$$setting 0/" "$conf"
            else
                sudo sed -i "\$ i \$$setting 0" "$conf"
            fi
        done
    fi
    echo_summary "Starting rsyslog"
    restart_service rsyslog
}

# _sd_stack_cacert: clients trust the CA bundle, when certificates were made.
function _sd_stack_cacert {
    if [[ -f $SSL_BUNDLE_FILE ]]; then
        export OS_CACERT=$SSL_BUNDLE_FILE
    fi
}

# _sd_stack_os_cloud: the openstack client speaks as devstack-admin unless told otherwise.
function _sd_stack_os_cloud {
    export OS_CLOUD=${OS_CLOUD:-devstack-admin}
}

# _sd_stack_tls_proxy: TLS in front of the HTTP services.
function _sd_stack_tls_proxy {
    start_tls_proxy http-services '*' 443 "$SERVICE_HOST" 80
}

# _sd_stack_dhcp: neutron's DHCP owns dnsmasq (but NetworkManager's), a clean iptables,
# and forwarding on.
function _sd_stack_dhcp {
    local manager
    manager=$(pidof NetworkManager || true)
    if [[ -z $manager ]]; then
        sudo killall dnsmasq || true
    else
        sudo ps h -o pid,ppid -C dnsmasq | grep -v "$manager" | awk '{print $1}' \
            | sudo xargs kill || true
    fi
    clean_iptables
    sudo sysctl -w net.ipv4.ip_forward=1
}

# --- after the post-config merges ----------------------------------------------------------

# _sd_stack_fixed_key: one key manager key shared by nova and cinder on every host.
function _sd_stack_fixed_key {
    FIXED_KEY=${FIXED_KEY:-bae3516cc1c0eb18b05440eba8012a4a880a2ee04d584a9c1579445e675b12defdc716ec}
    if is_service_enabled cinder; then
        iniset "$CINDER_CONF" key_manager fixed_key "$FIXED_KEY"
    fi
    if is_service_enabled nova; then
        iniset "$NOVA_CONF" key_manager fixed_key "$FIXED_KEY"
        iniset "$NOVA_CPU_CONF" key_manager fixed_key "$FIXED_KEY"
    fi
}

# _sd_stack_initial_network: neutron's first networks, by a plugin's command of that name
# where one is on PATH (stack.sh asks `type -p`, which finds no shell function), else
# DevStack's own.
function _sd_stack_initial_network {
    echo_summary "Creating initial neutron network elements"
    if type -p neutron_plugin_create_initial_networks >/dev/null; then
        neutron_plugin_create_initial_networks
    else
        create_neutron_initial_network
    fi
}

# _sd_stack_cinder_settle: glance backed by cinder waits for cinder-volume to report in.
function _sd_stack_cinder_settle {
    if [[ ${USE_CINDER_FOR_GLANCE:-} == True ]]; then
        sleep 30
    fi
}

# _sd_stack_images: every image of IMAGE_URLS uploaded to glance.
function _sd_stack_images {
    echo_summary "Uploading images"
    local url
    for url in ${IMAGE_URLS//,/ }; do
        upload_image "$url"
    done
}

# _sd_stack_userrc: an rc file per user and project, in $TOP_DIR/accrc.
function _sd_stack_userrc {
    local -a params=(-PA --target-dir "$TOP_DIR/accrc" --os-password "$ADMIN_PASSWORD")
    if [[ -f $SSL_BUNDLE_FILE ]]; then
        params+=(--os-cacert "$SSL_BUNDLE_FILE")
    fi
    "$TOP_DIR/tools/create_userrc.sh" "${params[@]}"
}

# _sd_stack_checks: the end of stack.sh's checks: computes ready, services up, cells v2
# hosts discovered, nova's upgrade check.
function _sd_stack_checks {
    if is_service_enabled n-cpu; then
        is_nova_ready
    fi
    service_check
    if is_service_enabled n-api; then
        if is_service_enabled n-cpu; then
            "$TOP_DIR/tools/discover_hosts.sh"
        else
            echo_summary "SKIPPING Cell setup because n-cpu is not enabled. You will have" \
                "to do this manually before you have a working environment."
        fi
        "$NOVA_BIN_DIR/nova-status" --config-file "$NOVA_CONF" upgrade check
    fi
}

# _sd_stack_completion: bash completion for the openstack client.
function _sd_stack_completion {
    command openstack complete | sudo tee /etc/bash_completion.d/osc.bash_completion >/dev/null
}

# _sd_stack_lvm_filter: LVM sees only the devices it should, on Debian and Ubuntu.
function _sd_stack_lvm_filter {
    if is_ubuntu; then
        echo_summary "Configuring lvm.conf global device filter"
        set_lvm_filter
    else
        echo_summary "Skip setting lvm filters for non Ubuntu systems"
    fi
}

# --- unstack.sh and clean.sh ------------------------------------------------------------------

# _sd_stack_unstack_all: with UNSTACK_ALL (`stackdag unstack --all`, and clean), the
# database, the message queue and LDAP stop too.
function _sd_stack_unstack_all {
    is_service_enabled mysql && stop_service mysql
    is_service_enabled postgresql && stop_service postgresql
    is_service_enabled rabbit && stop_service rabbitmq-server
    is_service_enabled ldap && stop_ldap
    return 0
}

# _sd_stack_unstack_rest: the rest of unstack.sh's work, after neutron and etcd.
function _sd_stack_unstack_rest {
    is_service_enabled openstack-cli-server && stop_service devstack@openstack-cli-server
    is_service_enabled tcpdump && stop_tcpdump
    stop_dstat
    is_service_enabled atop && stop_atop
    if is_service_enabled cinder && is_package_installed lvm2; then
        clean_lvm_filter
    fi
    clean_pyc_files
    rm -Rf "$DEST/async"
    sudo sed -i "\+directory = ${DEST}+ d" /etc/gitconfig
    return 0
}

# _sd_stack_clean_rest: clean.sh's end: configuration, data, logs, units, venvs and the
# files stack.sh wrote in the checkout.
function _sd_stack_clean_rest {
    if is_service_enabled nova && [[ -r $NOVA_PLUGINS/hypervisor-$VIRT_DRIVER ]]; then
        cleanup_nova_hypervisor
    fi
    sudo rm -rf "$KEYSTONE_CONF_DIR" "$GLANCE_CONF_DIR" "$NOVA_CONF_DIR" \
        "$PLACEMENT_CONF_DIR" "$CINDER_CONF_DIR" "$SWIFT_CONF_DIR" "$NEUTRON_CONF_DIR" \
        "$OPENSTACKCLIENT_CONF_DIR"
    sudo rm -f /etc/tgt/conf.d/*
    cleanup_rpc_backend
    cleanup_database
    sudo rm -rf "$DATA_DIR" "$DEST/status" "$DEST/async"
    [[ -z ${LOGFILE:-} || ! -f $LOGFILE ]] || sudo rm -f "$LOGFILE"
    [[ -z ${LOGDIR:-} || ! -d $LOGDIR ]] || sudo rm -rf "$LOGDIR"
    if _sd_systemd; then
        sudo find "$SYSTEMD_DIR" -type f -name '*devstack@*service' -delete
        $SYSTEMCTL daemon-reload
    fi
    rm -rf "${WHEELHOUSE:-}" "${PROJECT_VENV[@]}" "$HOME/.config/openstack"
    local file
    for file in .localrc.auto .localrc.password docs/files docs/html shocco stack-screenrc \
            .stackenv .prereqs; do
        rm -rf "${TOP_DIR:?}/$file"
    done
    sudo sed -i '/.*comment=devstack-.*/ d' /etc/fstab
}
