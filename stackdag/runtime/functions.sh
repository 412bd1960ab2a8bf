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
STACKDAG_STATE_DIR=${STACKDAG_STATE_DIR:-$TOP_DIR/.stack}
DEST=${DEST:-$STACKDAG_STATE_DIR/dest}
DEVSTACK_PLUGINS=${DEVSTACK_PLUGINS:-}
ENABLED_SERVICES=${ENABLED_SERVICES:-}
DISABLED_SERVICES=${DISABLED_SERVICES:-}
VIRT_DRIVER=${VIRT_DRIVER:-libvirt}
DEPRECATED_TEXT=${DEPRECATED_TEXT:-}
declare -gA GITREPO GITBRANCH GITDIR

# --- the helpers, one file per family ---------------------------------------------------
_SD_RUNTIME_DIR=${BASH_SOURCE[0]%/*}
[[ $_SD_RUNTIME_DIR == "${BASH_SOURCE[0]}" ]] && _SD_RUNTIME_DIR=.
source "$_SD_RUNTIME_DIR/messages.sh"   # die, warn, err, trueorfalse, get_field, timers
source "$_SD_RUNTIME_DIR/services.sh"   # is_service_enabled and friends, plugins, async
# Loaded on first use (every step sources this file, most use none of them):
#   system.sh     OS facts, sudo, chown/chmod, get_extra_file
#   ini.sh        iniset and friends
#   meta.sh       local.conf meta-sections, merge_config_*
#   packages.sh   install_package, pip_install, setup_develop
#   processes.sh  run_process, stop_process
#   git.sh        git_clone, git_clone_by_name
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
        local _sd_ext=""
        shopt -q extdebug && _sd_ext=1
        shopt -s extdebug
        if [[ -n $_sd_scratch ]]; then
            declare -F "${_sd_fnames[@]}" > "$_sd_scratch" 2>/dev/null || :
            mapfile -t _sd_lines < "$_sd_scratch"
        else
            mapfile -t _sd_lines < <(declare -F "${_sd_fnames[@]}" 2>/dev/null || :)
        fi
        [[ -n $_sd_ext ]] || shopt -u extdebug
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
    [async_run]=1 [async_runfunc]=1 [async_wait]=1 [command_not_found_handle]=1
    [define_plugin]=1 [deprecated]=1 [die]=1 [die_if_not_set]=1 [disable_all_services]=1
    [disable_negated_services]=1 [disable_service]=1 [echo_summary]=1 [enable_plugin]=1
    [enable_service]=1 [err]=1 [err_if_not_set]=1 [get_field]=1 [is_plugin_enabled]=1
    [is_service_enabled]=1 [is_set]=1 [plugin_requires]=1 [time_start]=1 [time_stop]=1
    [trueorfalse]=1 [use_library_from_git]=1 [verify_disabled_services]=1 [warn]=1
    [_sd_backtrace]=1 [_sd_clean_list]=1 [_sd_fail]=1 [_sd_is_service_enabled]=1
    [_sd_message]=1 [_sd_quiet]=1 [_sd_valid_name]=1 [_sd_words]=1
    [GetDistro]=1 [GetOSVersion]=1 [get_extra_file]=1 [is_arch]=1 [is_fedora]=1
    [is_ubuntu]=1 [safe_chmod]=1 [safe_chown]=1
    [_sd_is_true]=1 [_sd_safe_permission]=1 [_sd_sudo]=1
    [ini_has_option]=1 [iniadd]=1 [iniadd_literal]=1 [inicomment]=1 [inidelete]=1
    [iniget]=1 [iniget_multiline]=1 [iniget_sections]=1 [iniset]=1 [iniset_multiline]=1
    [iniuncomment]=1
    [_sd_ini]=1 [_sd_ini_add_lines]=1 [_sd_ini_delete_hits]=1 [_sd_ini_ensure_section]=1
    [_sd_ini_load]=1 [_sd_ini_scan]=1 [_sd_ini_set]=1 [_sd_ini_value]=1
    [_sd_ini_write]=1
    [get_meta_section]=1 [get_meta_section_files]=1 [merge_config_file]=1
    [merge_config_group]=1 [merge_config_text]=1
    [_sd_config_target]=1 [_sd_expand_path]=1 [_sd_expand_value]=1 [_sd_merge_body]=1
    [_sd_merge_into]=1 [_sd_meta_blocks]=1
    [apt_get]=1 [install_package]=1 [install_plugin_packages]=1 [is_package_installed]=1
    [pip_install]=1 [setup_develop]=1 [uninstall_package]=1
    [_sd_bindep_names]=1 [_sd_handled]=1 [_sd_list_names]=1 [_sd_pip]=1
    [_sd_read_list]=1 [_sd_record]=1 [_sd_recording]=1 [_sd_update_repos]=1
    [is_running]=1 [run_process]=1 [service_check]=1 [stop_process]=1
    [_sd_as_user]=1 [_sd_check_program]=1 [_sd_group_alive]=1 [_sd_pid_of]=1
    [_sd_service_name]=1 [_sd_signal_group]=1
    [git_clone]=1 [git_clone_by_name]=1
    [_sd_git_checkout]=1 [_sd_git_refuse]=1
)
