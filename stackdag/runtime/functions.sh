#!/bin/bash
# stackdag's DevStack helper runtime.
#
# Written for stackdag from the behaviour DevStack's plugins rely on (see README,
# "Differences from DevStack"); not copied from DevStack. It can be sourced on its own:
#     source stackdag/runtime/functions.sh
# and it is sourced by every step, so sourcing it starts no process.
#
# Conventions: every default below uses ${VAR:-...} so that re-sourcing never resets
# carried state; internal helpers are _sd_*, internal globals _SD_* (never carried from one
# step to the next). Where a helper knowingly departs from DevStack there is a comment
# starting "Differs from DevStack:".

# --- globals DevStack plugins expect ---------------------------------------------------
TOP_DIR=${TOP_DIR:-$PWD}
# stackdag passes every path under .stack/ in the environment (stackdag/state.py); these
# fallbacks, the same names, serve a runtime sourced on its own.
STACKDAG_STATE_DIR=${STACKDAG_STATE_DIR:-$TOP_DIR/.stack}
STACKDAG_PIDS_DIR=${STACKDAG_PIDS_DIR:-$STACKDAG_STATE_DIR/pids}
STACKDAG_STATES_DIR=${STACKDAG_STATES_DIR:-$STACKDAG_STATE_DIR/state}   # the saved shell states
STACKDAG_LOG_DIR=${STACKDAG_LOG_DIR:-$STACKDAG_STATE_DIR/logs}
STACKDAG_PACKAGES_LOG=${STACKDAG_PACKAGES_LOG:-$STACKDAG_STATE_DIR/packages.log}
STACKDAG_RECORDED_CLONES=${STACKDAG_RECORDED_CLONES:-$STACKDAG_STATE_DIR/records/clones}
STACKDAG_RECORDED_UNITS=${STACKDAG_RECORDED_UNITS:-$STACKDAG_STATE_DIR/records/systemd}
STACKDAG_OUTPUTS_DIR=${STACKDAG_OUTPUTS_DIR:-$STACKDAG_STATE_DIR/outputs}
DEST=${DEST:-$STACKDAG_STATE_DIR/dest}
DEVSTACK_PLUGINS=${DEVSTACK_PLUGINS:-}
ENABLED_SERVICES=${ENABLED_SERVICES:-}
DISABLED_SERVICES=${DISABLED_SERVICES:-}
VIRT_DRIVER=${VIRT_DRIVER:-libvirt}
DEPRECATED_TEXT=${DEPRECATED_TEXT:-}
declare -gA GITREPO GITBRANCH GITDIR
declare -gA SYSTEMD_ENV_VARS     # a service's variables, by name (DevStack's run_process)

# --- the helpers, one file per family ---------------------------------------------------
_SD_RUNTIME_DIR=${BASH_SOURCE[0]%/*}
[[ $_SD_RUNTIME_DIR == "${BASH_SOURCE[0]}" ]] && _SD_RUNTIME_DIR=.
source "$_SD_RUNTIME_DIR/messages.sh"   # die, warn, err, trueorfalse, get_field, timers
source "$_SD_RUNTIME_DIR/services.sh"   # is_service_enabled and friends, plugins, async
# Loaded on first use (every step sources this file, most use none of them; autoload.sh
# holds their stubs, tests/test_runtime_support.py checks this list against it):
#   system.sh       OS facts, sudo, chown/chmod, get_extra_file
#   ini.sh          iniset and friends
#   meta.sh         local.conf meta-sections, merge_config_*
#   packages.sh     install_package, pip_install, setup_develop
#   packagelists.sh files/debs, files/rpms and bindep.txt lists: get_packages
#   processes.sh    run_process, stop_process
#   procgroups.sh   process groups: members, signals, a service's stop
#   units.sh        systemd units (run_process where PID 1 is systemd), unit files
#   sysservices.sh  start_service and friends: the distribution's services
#   git.sh          git_clone, git_clone_by_name
#   python.sh       inc/python beyond pip_install: setup_lib, setup_install...
#   cloud.sh        keystone's get_or_create_*, endpoints, images, clouds.yaml
#   net.sh          addresses and ports
#   util.sh         the rest of DevStack's general helpers
#   rootwrap.sh     a project's oslo.rootwrap config and its sudoers entry
declare -gA _SD_FAMILY   # family -> its functions (set by autoload.sh)
source "$_SD_RUNTIME_DIR/autoload.sh"

# _sd_load FAMILY: source runtime/FAMILY.sh: its functions replace their stubs, but not a
# function of the family that a hook has defined for itself in the meantime (a plugin's own
# iniset or warn wins, as it would in DevStack, where the runtime was sourced first).
# A function is still a stub when bash says autoload.sh defined it. In a step the listing
# goes through the step's scratch file (no subshell); sourced on its own, a subshell.
function _sd_load {
    _sd_quiet _sd_load_family "$1"
}

function _sd_load_family {
    local _sd_line _sd_keep="" _sd_scratch=${_SD_SCRATCH:-} _sd_saved=""
    local -a _sd_fnames _sd_lines=()
    _sd_words _sd_fnames "${_SD_FAMILY[$1]:-}"
    if ((${#_sd_fnames[@]})); then
        # extdebug turns errtrace and functrace on, and turning it off turns them off:
        # they are put back as they were, or a stack step would lose its ERR trap in
        # functions (and its failure report the failing command) after the first helper
        # of a family loads.
        local _sd_ext="" _sd_flags=$-
        shopt -q extdebug && _sd_ext=1
        shopt -s extdebug
        if [[ -n $_sd_scratch ]]; then
            declare -F "${_sd_fnames[@]}" > "$_sd_scratch" 2>/dev/null || :
            mapfile -t _sd_lines < "$_sd_scratch"
        else
            mapfile -t _sd_lines < <(declare -F "${_sd_fnames[@]}" 2>/dev/null || :)
        fi
        [[ -n $_sd_ext ]] || shopt -u extdebug
        [[ $_sd_flags != *E* ]] || set -o errtrace
        [[ $_sd_flags != *T* ]] || set -o functrace
        for _sd_line in "${_sd_lines[@]}"; do
            [[ $_sd_line == *" $_SD_RUNTIME_DIR/autoload.sh" ]] || _sd_keep+=" ${_sd_line%% *}"
        done
    fi
    if [[ -n $_sd_keep ]]; then
        if [[ -n $_sd_scratch ]]; then
            declare -f $_sd_keep > "$_sd_scratch"
        else
            _sd_saved=$(declare -f $_sd_keep)
        fi
    fi
    source "$_SD_RUNTIME_DIR/$1.sh"
    if [[ -n $_sd_keep ]]; then
        if [[ -n $_sd_scratch ]]; then
            source "$_sd_scratch"
        else
            eval "$_sd_saved"
        fi
    fi
}

# --- record what the runtime provides ---------------------------------------------------
# Functions defined above are the runtime's own; a step saves only the functions its hooks
# defined, so a newer runtime is never shadowed by an old copy in the carried state.
# The list is literal so that sourcing forks nothing; tests/test_runtime_support.py checks
# that it names exactly the functions the files above define.
declare -gA _SD_RUNTIME_FUNCS=(
    [_sd_load]=1 [_sd_load_family]=1
    [_sd_linked_checkout]=1 [_sd_lib_hook]=1 [stack_install_service]=1
    [async_run]=1 [async_runfunc]=1 [async_wait]=1 [command_not_found_handle]=1 [_sd_devstack_lib]=1 [_sd_note_warning]=1
    [define_plugin]=1 [deprecated]=1 [die]=1 [die_if_not_set]=1 [disable_all_services]=1
    [disable_negated_services]=1 [disable_service]=1 [echo_summary]=1 [enable_plugin]=1
    [enable_service]=1 [err]=1 [err_if_not_set]=1 [get_field]=1 [is_plugin_enabled]=1
    [is_service_enabled]=1 [is_set]=1 [plugin_requires]=1 [time_start]=1 [time_stop]=1
    [trueorfalse]=1 [use_library_from_git]=1 [verify_disabled_services]=1 [warn]=1
    [_sd_backtrace]=1 [_sd_clean_list]=1 [_sd_fail]=1 [_sd_is_service_enabled]=1
    [_sd_message]=1 [_sd_quiet]=1 [_sd_valid_name]=1 [_sd_where]=1 [_sd_words]=1
    [GetDistro]=1 [GetOSVersion]=1 [add_user_to_group]=1 [check_path_perm_sanity]=1
    [clean_pyc_files]=1 [create_disk]=1 [destroy_disk]=1
    [enable_kernel_bridge_firewall]=1 [exit_distro_not_supported]=1 [get_extra_file]=1
    [is_arch]=1 [is_fedora]=1 [is_fips_enabled]=1 [is_nfs_directory]=1 [is_openeuler]=1
    [is_sudo_rs]=1 [is_ubuntu]=1 [running_in_container]=1 [safe_chmod]=1 [safe_chown]=1
    [set_systemd_override]=1 [sudo_with_proxies]=1 [write_devstack_version]=1
    [_sd_is_true]=1 [_sd_safe_permission]=1 [_sd_sudo]=1 [_sd_system_change]=1
    [ini_has_option]=1 [iniadd]=1 [iniadd_literal]=1 [inicomment]=1 [inidelete]=1
    [iniget]=1 [iniget_multiline]=1 [iniget_sections]=1 [iniset]=1 [iniset_multiline]=1
    [iniuncomment]=1
    [_sd_ini]=1 [_sd_ini_add_lines]=1 [_sd_ini_delete_hits]=1 [_sd_ini_ensure_section]=1
    [_sd_ini_load]=1 [_sd_ini_scan]=1 [_sd_ini_set]=1 [_sd_ini_value]=1
    [_sd_ini_write]=1
    [get_meta_section]=1 [get_meta_section_files]=1 [merge_config_file]=1
    [merge_config_group]=1 [merge_config_text]=1
    [_sd_config_target]=1 [_sd_expand_path]=1 [_sd_expand_value]=1 [_sd_merge_body]=1
    [_sd_merge_into]=1 [_sd_meta_blocks]=1 [_sd_note_output]=1
    [apt_get]=1 [apt_get_update]=1 [get_packages]=1 [get_plugin_packages]=1
    [install_bindep]=1 [install_package]=1 [install_plugin_packages]=1
    [is_package_installed]=1 [pip_install]=1 [real_install_package]=1 [setup_develop]=1
    [uninstall_package]=1 [update_package_repo]=1 [yum_install]=1 [zypper_install]=1
    [_sd_bindep_names]=1 [_sd_handled]=1 [_sd_list_names]=1 [_sd_package_dir]=1
    [_sd_pip]=1 [_sd_print_list_names]=1 [_sd_read_list]=1 [_sd_record]=1
    [_sd_recording]=1 [_sd_update_repos]=1
    [is_running]=1 [run_process]=1 [service_check]=1 [start_recorded]=1 [stop_process]=1
    [_sd_as_user]=1 [_sd_check_program]=1 [_sd_end]=1 [_sd_group_alive]=1
    [_sd_group_members]=1 [_sd_leads]=1 [_sd_left]=1 [_sd_may_signal]=1 [_sd_pid_of]=1
    [_sd_pidfile]=1 [_sd_service_name]=1 [_sd_signal]=1 [_sd_start]=1 [_sd_start_id]=1
    [write_user_unit_file]=1 [write_uwsgi_user_unit_file]=1
    [_sd_cgroup_members]=1 [_sd_env_words]=1 [_sd_systemctl]=1 [_sd_systemd]=1
    [_sd_unit_active]=1 [_sd_unit_exec]=1 [_sd_unit_file]=1 [_sd_unit_listed]=1
    [_sd_unit_record]=1
    [_sd_unit_run]=1 [_sd_unit_show]=1 [_sd_unit_stop]=1
    [reload_service]=1 [restart_service]=1 [start_service]=1 [stop_service]=1
    [_sd_daemon_pidfile]=1 [_sd_daemon_started]=1 [_sd_init_script]=1 [_sd_of_stackdag]=1
    [_sd_proc_snapshot]=1
    [_sd_system_record]=1 [_sd_system_running]=1 [_sd_system_service]=1
    [git_clone]=1 [git_clone_by_name]=1 [git_timed]=1 [git_update_branch]=1
    [git_update_remote_branch]=1 [git_update_tag]=1
    [_sd_git_checkout]=1 [_sd_git_refuse]=1
    [disable_python3_package]=1 [enable_python3_package]=1
    [get_from_global_requirements]=1 [get_pip_command]=1 [get_python_exec_prefix]=1
    [get_version_constraints_from_global_requirements]=1 [install_devstack_tools]=1
    [install_python]=1 [install_python3]=1 [join_extras]=1 [lib_installed_from_git]=1
    [pip_install_gr]=1 [pip_install_gr_extras]=1 [pip_uninstall]=1 [python3_enabled]=1
    [python3_version]=1 [python_version]=1 [setup_dev_lib]=1
    [setup_devstack_virtualenv]=1 [setup_install]=1 [setup_lib]=1 [setup_package]=1
    [_sd_bindep_flag]=1 [_sd_global_requirement]=1 [_sd_python_version]=1
    [cleanup_oscwrap]=1 [get_endpoint_url]=1 [get_instance_ip]=1
    [get_or_add_group_project_role]=1 [get_or_add_user_domain_role]=1
    [get_or_add_user_project_role]=1 [get_or_add_user_system_role]=1
    [get_or_create_domain]=1 [get_or_create_endpoint]=1 [get_or_create_group]=1
    [get_or_create_project]=1 [get_or_create_role]=1 [get_or_create_service]=1
    [get_or_create_user]=1 [install_openstack_cli_server]=1 [install_oscwrap]=1
    [oscwrap]=1 [upload_image]=1 [wait_for_compute]=1 [write_clouds_yaml]=1
    [_sd_domain_args]=1 [_sd_role_added]=1 [_sd_echo_words]=1 [_sd_endpoint]=1 [_sd_osc]=1
    [address_in_net]=1 [cidr2netmask]=1 [export_proxy_variables]=1
    [generate_hex_string]=1 [get_default_host_ip]=1 [get_random_port]=1 [ipv6_unquote]=1
    [is_ipv4_address]=1 [is_provider_network]=1 [maskip]=1 [set_mtu]=1
    [async_cleanup]=1 [async_init]=1 [async_inner]=1 [async_log]=1 [async_pidof]=1
    [async_print_timing]=1 [async_wait_dump]=1 [backtrace]=1 [bool_to_int]=1 [cp_it]=1
    [fetch_plugins]=1 [function_exists]=1 [get_release_name_from_branch]=1
    [install_default_policy]=1 [is_ironic_enforce_scope]=1 [is_ironic_hardware]=1
    [is_ironic_sharded]=1 [isset]=1 [load_plugin_settings]=1 [ping_check]=1
    [plugin_override_defaults]=1 [policy_add]=1
    [remove_disabled_services]=1 [run_phase]=1 [run_plugins]=1
    [save_stackenv]=1 [setup_colorized_logging]=1 [setup_logging]=1
    [setup_standard_logging_identity]=1 [setup_systemd_logging]=1 [short_source]=1
    [test_with_retry]=1 [time_totals]=1
    [use_database]=1 [use_exclusive_service]=1 [vercmp]=1 [wait_for_service]=1
    [_sd_driver_only]=1
    [add_sudo_secure_path]=1 [configure_rootwrap]=1 [get_rootwrap_location]=1
)

# Record mode: what changes the system is recorded, not run (runtime/record.sh).
[[ -z ${STACKDAG_RECORD:-} ]] || source "$_SD_RUNTIME_DIR/record.sh"
