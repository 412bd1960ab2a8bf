#!/bin/bash
# Stubs for the helper families functions.sh loads on first use (generated; the test
# tests/test_runtime_support.py::test_autoload_stubs_are_current prints it afresh).
# Each stub sources its family, which redefines it, then calls the real function: a step
# pays only for the families its hook uses.

# system.sh
function GetDistro { _sd_load system && GetDistro "$@"; }
function GetOSVersion { _sd_load system && GetOSVersion "$@"; }
function _sd_is_true { _sd_load system && _sd_is_true "$@"; }
function _sd_safe_permission { _sd_load system && _sd_safe_permission "$@"; }
function _sd_sudo { _sd_load system && _sd_sudo "$@"; }
function get_extra_file { _sd_load system && get_extra_file "$@"; }
function is_arch { _sd_load system && is_arch "$@"; }
function is_fedora { _sd_load system && is_fedora "$@"; }
function is_ubuntu { _sd_load system && is_ubuntu "$@"; }
function safe_chmod { _sd_load system && safe_chmod "$@"; }
function safe_chown { _sd_load system && safe_chown "$@"; }
_SD_FAMILY[system]="GetDistro GetOSVersion _sd_is_true _sd_safe_permission _sd_sudo get_extra_file is_arch is_fedora is_ubuntu safe_chmod safe_chown"

# ini.sh
function _sd_ini { _sd_load ini && _sd_ini "$@"; }
function _sd_ini_add_lines { _sd_load ini && _sd_ini_add_lines "$@"; }
function _sd_ini_delete_hits { _sd_load ini && _sd_ini_delete_hits "$@"; }
function _sd_ini_ensure_section { _sd_load ini && _sd_ini_ensure_section "$@"; }
function _sd_ini_load { _sd_load ini && _sd_ini_load "$@"; }
function _sd_ini_scan { _sd_load ini && _sd_ini_scan "$@"; }
function _sd_ini_set { _sd_load ini && _sd_ini_set "$@"; }
function _sd_ini_value { _sd_load ini && _sd_ini_value "$@"; }
function _sd_ini_write { _sd_load ini && _sd_ini_write "$@"; }
function ini_has_option { _sd_load ini && ini_has_option "$@"; }
function iniadd { _sd_load ini && iniadd "$@"; }
function iniadd_literal { _sd_load ini && iniadd_literal "$@"; }
function inicomment { _sd_load ini && inicomment "$@"; }
function inidelete { _sd_load ini && inidelete "$@"; }
function iniget { _sd_load ini && iniget "$@"; }
function iniget_multiline { _sd_load ini && iniget_multiline "$@"; }
function iniget_sections { _sd_load ini && iniget_sections "$@"; }
function iniset { _sd_load ini && iniset "$@"; }
function iniset_multiline { _sd_load ini && iniset_multiline "$@"; }
function iniuncomment { _sd_load ini && iniuncomment "$@"; }
_SD_FAMILY[ini]="_sd_ini _sd_ini_add_lines _sd_ini_delete_hits _sd_ini_ensure_section _sd_ini_load _sd_ini_scan _sd_ini_set _sd_ini_value _sd_ini_write ini_has_option iniadd iniadd_literal inicomment inidelete iniget iniget_multiline iniget_sections iniset iniset_multiline iniuncomment"

# meta.sh
function _sd_config_target { _sd_load meta && _sd_config_target "$@"; }
function _sd_expand_path { _sd_load meta && _sd_expand_path "$@"; }
function _sd_expand_value { _sd_load meta && _sd_expand_value "$@"; }
function _sd_merge_body { _sd_load meta && _sd_merge_body "$@"; }
function _sd_merge_into { _sd_load meta && _sd_merge_into "$@"; }
function _sd_meta_blocks { _sd_load meta && _sd_meta_blocks "$@"; }
function get_meta_section { _sd_load meta && get_meta_section "$@"; }
function get_meta_section_files { _sd_load meta && get_meta_section_files "$@"; }
function merge_config_file { _sd_load meta && merge_config_file "$@"; }
function merge_config_group { _sd_load meta && merge_config_group "$@"; }
function merge_config_text { _sd_load meta && merge_config_text "$@"; }
_SD_FAMILY[meta]="_sd_config_target _sd_expand_path _sd_expand_value _sd_merge_body _sd_merge_into _sd_meta_blocks get_meta_section get_meta_section_files merge_config_file merge_config_group merge_config_text"

# packages.sh
function _sd_bindep_names { _sd_load packages && _sd_bindep_names "$@"; }
function _sd_handled { _sd_load packages && _sd_handled "$@"; }
function _sd_list_names { _sd_load packages && _sd_list_names "$@"; }
function _sd_pip { _sd_load packages && _sd_pip "$@"; }
function _sd_read_list { _sd_load packages && _sd_read_list "$@"; }
function _sd_record { _sd_load packages && _sd_record "$@"; }
function _sd_recording { _sd_load packages && _sd_recording "$@"; }
function _sd_update_repos { _sd_load packages && _sd_update_repos "$@"; }
function apt_get { _sd_load packages && apt_get "$@"; }
function install_package { _sd_load packages && install_package "$@"; }
function install_plugin_packages { _sd_load packages && install_plugin_packages "$@"; }
function is_package_installed { _sd_load packages && is_package_installed "$@"; }
function pip_install { _sd_load packages && pip_install "$@"; }
function setup_develop { _sd_load packages && setup_develop "$@"; }
function uninstall_package { _sd_load packages && uninstall_package "$@"; }
_SD_FAMILY[packages]="_sd_bindep_names _sd_handled _sd_list_names _sd_pip _sd_read_list _sd_record _sd_recording _sd_update_repos apt_get install_package install_plugin_packages is_package_installed pip_install setup_develop uninstall_package"

# processes.sh
function _sd_as_user { _sd_load processes && _sd_as_user "$@"; }
function _sd_check_program { _sd_load processes && _sd_check_program "$@"; }
function _sd_group_alive { _sd_load processes && _sd_group_alive "$@"; }
function _sd_pid_of { _sd_load processes && _sd_pid_of "$@"; }
function _sd_service_name { _sd_load processes && _sd_service_name "$@"; }
function _sd_signal_group { _sd_load processes && _sd_signal_group "$@"; }
function is_running { _sd_load processes && is_running "$@"; }
function run_process { _sd_load processes && run_process "$@"; }
function service_check { _sd_load processes && service_check "$@"; }
function stop_process { _sd_load processes && stop_process "$@"; }
_SD_FAMILY[processes]="_sd_as_user _sd_check_program _sd_group_alive _sd_pid_of _sd_service_name _sd_signal_group is_running run_process service_check stop_process"

# git.sh
function _sd_git_checkout { _sd_load git && _sd_git_checkout "$@"; }
function _sd_git_refuse { _sd_load git && _sd_git_refuse "$@"; }
function git_clone { _sd_load git && git_clone "$@"; }
function git_clone_by_name { _sd_load git && git_clone_by_name "$@"; }
_SD_FAMILY[git]="_sd_git_checkout _sd_git_refuse git_clone git_clone_by_name"
