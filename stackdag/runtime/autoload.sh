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
function _sd_system_change { _sd_load system && _sd_system_change "$@"; }
function add_user_to_group { _sd_load system && add_user_to_group "$@"; }
function check_path_perm_sanity { _sd_load system && check_path_perm_sanity "$@"; }
function clean_pyc_files { _sd_load system && clean_pyc_files "$@"; }
function create_disk { _sd_load system && create_disk "$@"; }
function destroy_disk { _sd_load system && destroy_disk "$@"; }
function enable_kernel_bridge_firewall { _sd_load system && enable_kernel_bridge_firewall "$@"; }
function exit_distro_not_supported { _sd_load system && exit_distro_not_supported "$@"; }
function get_extra_file { _sd_load system && get_extra_file "$@"; }
function is_arch { _sd_load system && is_arch "$@"; }
function is_fedora { _sd_load system && is_fedora "$@"; }
function is_fips_enabled { _sd_load system && is_fips_enabled "$@"; }
function is_nfs_directory { _sd_load system && is_nfs_directory "$@"; }
function is_openeuler { _sd_load system && is_openeuler "$@"; }
function is_sudo_rs { _sd_load system && is_sudo_rs "$@"; }
function is_ubuntu { _sd_load system && is_ubuntu "$@"; }
function running_in_container { _sd_load system && running_in_container "$@"; }
function safe_chmod { _sd_load system && safe_chmod "$@"; }
function safe_chown { _sd_load system && safe_chown "$@"; }
function set_systemd_override { _sd_load system && set_systemd_override "$@"; }
function sudo_with_proxies { _sd_load system && sudo_with_proxies "$@"; }
function write_devstack_version { _sd_load system && write_devstack_version "$@"; }
_SD_FAMILY[system]="GetDistro GetOSVersion _sd_is_true _sd_safe_permission _sd_sudo _sd_system_change add_user_to_group check_path_perm_sanity clean_pyc_files create_disk destroy_disk enable_kernel_bridge_firewall exit_distro_not_supported get_extra_file is_arch is_fedora is_fips_enabled is_nfs_directory is_openeuler is_sudo_rs is_ubuntu running_in_container safe_chmod safe_chown set_systemd_override sudo_with_proxies write_devstack_version"

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
function _sd_note_output { _sd_load meta && _sd_note_output "$@"; }
function get_meta_section { _sd_load meta && get_meta_section "$@"; }
function get_meta_section_files { _sd_load meta && get_meta_section_files "$@"; }
function merge_config_file { _sd_load meta && merge_config_file "$@"; }
function merge_config_group { _sd_load meta && merge_config_group "$@"; }
function merge_config_text { _sd_load meta && merge_config_text "$@"; }
_SD_FAMILY[meta]="_sd_config_target _sd_expand_path _sd_expand_value _sd_merge_body _sd_merge_into _sd_meta_blocks _sd_note_output get_meta_section get_meta_section_files merge_config_file merge_config_group merge_config_text"

# packages.sh
function _sd_handled { _sd_load packages && _sd_handled "$@"; }
function _sd_pip { _sd_load packages && _sd_pip "$@"; }
function _sd_record { _sd_load packages && _sd_record "$@"; }
function _sd_recording { _sd_load packages && _sd_recording "$@"; }
function _sd_update_repos { _sd_load packages && _sd_update_repos "$@"; }
function apt_get { _sd_load packages && apt_get "$@"; }
function apt_get_update { _sd_load packages && apt_get_update "$@"; }
function install_package { _sd_load packages && install_package "$@"; }
function is_package_installed { _sd_load packages && is_package_installed "$@"; }
function pip_install { _sd_load packages && pip_install "$@"; }
function real_install_package { _sd_load packages && real_install_package "$@"; }
function setup_develop { _sd_load packages && setup_develop "$@"; }
function uninstall_package { _sd_load packages && uninstall_package "$@"; }
function update_package_repo { _sd_load packages && update_package_repo "$@"; }
function yum_install { _sd_load packages && yum_install "$@"; }
function zypper_install { _sd_load packages && zypper_install "$@"; }
_SD_FAMILY[packages]="_sd_handled _sd_pip _sd_record _sd_recording _sd_update_repos apt_get apt_get_update install_package is_package_installed pip_install real_install_package setup_develop uninstall_package update_package_repo yum_install zypper_install"

# packagelists.sh
function _sd_bindep_names { _sd_load packagelists && _sd_bindep_names "$@"; }
function _sd_list_names { _sd_load packagelists && _sd_list_names "$@"; }
function _sd_package_dir { _sd_load packagelists && _sd_package_dir "$@"; }
function _sd_print_list_names { _sd_load packagelists && _sd_print_list_names "$@"; }
function _sd_read_list { _sd_load packagelists && _sd_read_list "$@"; }
function get_packages { _sd_load packagelists && get_packages "$@"; }
function get_plugin_packages { _sd_load packagelists && get_plugin_packages "$@"; }
function install_bindep { _sd_load packagelists && install_bindep "$@"; }
function install_plugin_packages { _sd_load packagelists && install_plugin_packages "$@"; }
_SD_FAMILY[packagelists]="_sd_bindep_names _sd_list_names _sd_package_dir _sd_print_list_names _sd_read_list get_packages get_plugin_packages install_bindep install_plugin_packages"

# processes.sh
function _sd_as_user { _sd_load processes && _sd_as_user "$@"; }
function _sd_check_program { _sd_load processes && _sd_check_program "$@"; }
function _sd_pid_of { _sd_load processes && _sd_pid_of "$@"; }
function _sd_pidfile { _sd_load processes && _sd_pidfile "$@"; }
function _sd_service_name { _sd_load processes && _sd_service_name "$@"; }
function _sd_start { _sd_load processes && _sd_start "$@"; }
function is_running { _sd_load processes && is_running "$@"; }
function run_process { _sd_load processes && run_process "$@"; }
function service_check { _sd_load processes && service_check "$@"; }
function start_recorded { _sd_load processes && start_recorded "$@"; }
function stop_process { _sd_load processes && stop_process "$@"; }
_SD_FAMILY[processes]="_sd_as_user _sd_check_program _sd_pid_of _sd_pidfile _sd_service_name _sd_start is_running run_process service_check start_recorded stop_process"

# procgroups.sh
function _sd_end { _sd_load procgroups && _sd_end "$@"; }
function _sd_group_alive { _sd_load procgroups && _sd_group_alive "$@"; }
function _sd_group_members { _sd_load procgroups && _sd_group_members "$@"; }
function _sd_leads { _sd_load procgroups && _sd_leads "$@"; }
function _sd_left { _sd_load procgroups && _sd_left "$@"; }
function _sd_may_signal { _sd_load procgroups && _sd_may_signal "$@"; }
function _sd_signal { _sd_load procgroups && _sd_signal "$@"; }
function _sd_start_id { _sd_load procgroups && _sd_start_id "$@"; }
_SD_FAMILY[procgroups]="_sd_end _sd_group_alive _sd_group_members _sd_leads _sd_left _sd_may_signal _sd_signal _sd_start_id"

# units.sh
function _sd_cgroup_members { _sd_load units && _sd_cgroup_members "$@"; }
function _sd_env_words { _sd_load units && _sd_env_words "$@"; }
function _sd_systemctl { _sd_load units && _sd_systemctl "$@"; }
function _sd_systemd { _sd_load units && _sd_systemd "$@"; }
function _sd_unit_active { _sd_load units && _sd_unit_active "$@"; }
function _sd_unit_exec { _sd_load units && _sd_unit_exec "$@"; }
function _sd_unit_file { _sd_load units && _sd_unit_file "$@"; }
function _sd_unit_listed { _sd_load units && _sd_unit_listed "$@"; }
function _sd_unit_record { _sd_load units && _sd_unit_record "$@"; }
function _sd_unit_run { _sd_load units && _sd_unit_run "$@"; }
function _sd_unit_show { _sd_load units && _sd_unit_show "$@"; }
function _sd_unit_stop { _sd_load units && _sd_unit_stop "$@"; }
function write_user_unit_file { _sd_load units && write_user_unit_file "$@"; }
function write_uwsgi_user_unit_file { _sd_load units && write_uwsgi_user_unit_file "$@"; }
_SD_FAMILY[units]="_sd_cgroup_members _sd_env_words _sd_systemctl _sd_systemd _sd_unit_active _sd_unit_exec _sd_unit_file _sd_unit_listed _sd_unit_record _sd_unit_run _sd_unit_show _sd_unit_stop write_user_unit_file write_uwsgi_user_unit_file"

# sysservices.sh
function _sd_daemon_pidfile { _sd_load sysservices && _sd_daemon_pidfile "$@"; }
function _sd_daemon_started { _sd_load sysservices && _sd_daemon_started "$@"; }
function _sd_init_script { _sd_load sysservices && _sd_init_script "$@"; }
function _sd_of_stackdag { _sd_load sysservices && _sd_of_stackdag "$@"; }
function _sd_proc_snapshot { _sd_load sysservices && _sd_proc_snapshot "$@"; }
function _sd_system_record { _sd_load sysservices && _sd_system_record "$@"; }
function _sd_system_running { _sd_load sysservices && _sd_system_running "$@"; }
function _sd_system_service { _sd_load sysservices && _sd_system_service "$@"; }
function reload_service { _sd_load sysservices && reload_service "$@"; }
function restart_service { _sd_load sysservices && restart_service "$@"; }
function start_service { _sd_load sysservices && start_service "$@"; }
function stop_service { _sd_load sysservices && stop_service "$@"; }
_SD_FAMILY[sysservices]="_sd_daemon_pidfile _sd_daemon_started _sd_init_script _sd_of_stackdag _sd_proc_snapshot _sd_system_record _sd_system_running _sd_system_service reload_service restart_service start_service stop_service"

# git.sh
function _sd_git_checkout { _sd_load git && _sd_git_checkout "$@"; }
function _sd_git_refuse { _sd_load git && _sd_git_refuse "$@"; }
function git_clone { _sd_load git && git_clone "$@"; }
function git_clone_by_name { _sd_load git && git_clone_by_name "$@"; }
function git_timed { _sd_load git && git_timed "$@"; }
function git_update_branch { _sd_load git && git_update_branch "$@"; }
function git_update_remote_branch { _sd_load git && git_update_remote_branch "$@"; }
function git_update_tag { _sd_load git && git_update_tag "$@"; }
_SD_FAMILY[git]="_sd_git_checkout _sd_git_refuse git_clone git_clone_by_name git_timed git_update_branch git_update_remote_branch git_update_tag"

# python.sh
function _sd_bindep_flag { _sd_load python && _sd_bindep_flag "$@"; }
function _sd_global_requirement { _sd_load python && _sd_global_requirement "$@"; }
function _sd_python_version { _sd_load python && _sd_python_version "$@"; }
function disable_python3_package { _sd_load python && disable_python3_package "$@"; }
function enable_python3_package { _sd_load python && enable_python3_package "$@"; }
function get_from_global_requirements { _sd_load python && get_from_global_requirements "$@"; }
function get_pip_command { _sd_load python && get_pip_command "$@"; }
function get_python_exec_prefix { _sd_load python && get_python_exec_prefix "$@"; }
function get_version_constraints_from_global_requirements { _sd_load python && get_version_constraints_from_global_requirements "$@"; }
function install_devstack_tools { _sd_load python && install_devstack_tools "$@"; }
function install_python { _sd_load python && install_python "$@"; }
function install_python3 { _sd_load python && install_python3 "$@"; }
function join_extras { _sd_load python && join_extras "$@"; }
function lib_installed_from_git { _sd_load python && lib_installed_from_git "$@"; }
function pip_install_gr { _sd_load python && pip_install_gr "$@"; }
function pip_install_gr_extras { _sd_load python && pip_install_gr_extras "$@"; }
function pip_uninstall { _sd_load python && pip_uninstall "$@"; }
function python3_enabled { _sd_load python && python3_enabled "$@"; }
function python3_version { _sd_load python && python3_version "$@"; }
function python_version { _sd_load python && python_version "$@"; }
function setup_dev_lib { _sd_load python && setup_dev_lib "$@"; }
function setup_devstack_virtualenv { _sd_load python && setup_devstack_virtualenv "$@"; }
function setup_install { _sd_load python && setup_install "$@"; }
function setup_lib { _sd_load python && setup_lib "$@"; }
function setup_package { _sd_load python && setup_package "$@"; }
_SD_FAMILY[python]="_sd_bindep_flag _sd_global_requirement _sd_python_version disable_python3_package enable_python3_package get_from_global_requirements get_pip_command get_python_exec_prefix get_version_constraints_from_global_requirements install_devstack_tools install_python install_python3 join_extras lib_installed_from_git pip_install_gr pip_install_gr_extras pip_uninstall python3_enabled python3_version python_version setup_dev_lib setup_devstack_virtualenv setup_install setup_lib setup_package"

# cloud.sh
function _sd_domain_args { _sd_load cloud && _sd_domain_args "$@"; }
function _sd_echo_words { _sd_load cloud && _sd_echo_words "$@"; }
function _sd_endpoint { _sd_load cloud && _sd_endpoint "$@"; }
function _sd_osc { _sd_load cloud && _sd_osc "$@"; }
function _sd_role_added { _sd_load cloud && _sd_role_added "$@"; }
function cleanup_oscwrap { _sd_load cloud && cleanup_oscwrap "$@"; }
function get_endpoint_url { _sd_load cloud && get_endpoint_url "$@"; }
function get_instance_ip { _sd_load cloud && get_instance_ip "$@"; }
function get_or_add_group_project_role { _sd_load cloud && get_or_add_group_project_role "$@"; }
function get_or_add_user_domain_role { _sd_load cloud && get_or_add_user_domain_role "$@"; }
function get_or_add_user_project_role { _sd_load cloud && get_or_add_user_project_role "$@"; }
function get_or_add_user_system_role { _sd_load cloud && get_or_add_user_system_role "$@"; }
function get_or_create_domain { _sd_load cloud && get_or_create_domain "$@"; }
function get_or_create_endpoint { _sd_load cloud && get_or_create_endpoint "$@"; }
function get_or_create_group { _sd_load cloud && get_or_create_group "$@"; }
function get_or_create_project { _sd_load cloud && get_or_create_project "$@"; }
function get_or_create_role { _sd_load cloud && get_or_create_role "$@"; }
function get_or_create_service { _sd_load cloud && get_or_create_service "$@"; }
function get_or_create_user { _sd_load cloud && get_or_create_user "$@"; }
function install_openstack_cli_server { _sd_load cloud && install_openstack_cli_server "$@"; }
function install_oscwrap { _sd_load cloud && install_oscwrap "$@"; }
function oscwrap { _sd_load cloud && oscwrap "$@"; }
function upload_image { _sd_load cloud && upload_image "$@"; }
function wait_for_compute { _sd_load cloud && wait_for_compute "$@"; }
function write_clouds_yaml { _sd_load cloud && write_clouds_yaml "$@"; }
_SD_FAMILY[cloud]="_sd_domain_args _sd_echo_words _sd_endpoint _sd_osc _sd_role_added cleanup_oscwrap get_endpoint_url get_instance_ip get_or_add_group_project_role get_or_add_user_domain_role get_or_add_user_project_role get_or_add_user_system_role get_or_create_domain get_or_create_endpoint get_or_create_group get_or_create_project get_or_create_role get_or_create_service get_or_create_user install_openstack_cli_server install_oscwrap oscwrap upload_image wait_for_compute write_clouds_yaml"

# net.sh
function address_in_net { _sd_load net && address_in_net "$@"; }
function cidr2netmask { _sd_load net && cidr2netmask "$@"; }
function export_proxy_variables { _sd_load net && export_proxy_variables "$@"; }
function generate_hex_string { _sd_load net && generate_hex_string "$@"; }
function get_default_host_ip { _sd_load net && get_default_host_ip "$@"; }
function get_random_port { _sd_load net && get_random_port "$@"; }
function ipv6_unquote { _sd_load net && ipv6_unquote "$@"; }
function is_ipv4_address { _sd_load net && is_ipv4_address "$@"; }
function is_provider_network { _sd_load net && is_provider_network "$@"; }
function maskip { _sd_load net && maskip "$@"; }
function set_mtu { _sd_load net && set_mtu "$@"; }
_SD_FAMILY[net]="address_in_net cidr2netmask export_proxy_variables generate_hex_string get_default_host_ip get_random_port ipv6_unquote is_ipv4_address is_provider_network maskip set_mtu"

# util.sh
function _sd_driver_only { _sd_load util && _sd_driver_only "$@"; }
function async_cleanup { _sd_load util && async_cleanup "$@"; }
function async_init { _sd_load util && async_init "$@"; }
function async_inner { _sd_load util && async_inner "$@"; }
function async_log { _sd_load util && async_log "$@"; }
function async_pidof { _sd_load util && async_pidof "$@"; }
function async_print_timing { _sd_load util && async_print_timing "$@"; }
function async_wait_dump { _sd_load util && async_wait_dump "$@"; }
function backtrace { _sd_load util && backtrace "$@"; }
function bool_to_int { _sd_load util && bool_to_int "$@"; }
function cp_it { _sd_load util && cp_it "$@"; }
function fetch_plugins { _sd_load util && fetch_plugins "$@"; }
function function_exists { _sd_load util && function_exists "$@"; }
function get_release_name_from_branch { _sd_load util && get_release_name_from_branch "$@"; }
function install_default_policy { _sd_load util && install_default_policy "$@"; }
function is_ironic_enforce_scope { _sd_load util && is_ironic_enforce_scope "$@"; }
function is_ironic_hardware { _sd_load util && is_ironic_hardware "$@"; }
function is_ironic_sharded { _sd_load util && is_ironic_sharded "$@"; }
function isset { _sd_load util && isset "$@"; }
function load_plugin_settings { _sd_load util && load_plugin_settings "$@"; }
function ping_check { _sd_load util && ping_check "$@"; }
function plugin_override_defaults { _sd_load util && plugin_override_defaults "$@"; }
function policy_add { _sd_load util && policy_add "$@"; }
function remove_disabled_services { _sd_load util && remove_disabled_services "$@"; }
function run_phase { _sd_load util && run_phase "$@"; }
function run_plugins { _sd_load util && run_plugins "$@"; }
function save_stackenv { _sd_load util && save_stackenv "$@"; }
function setup_colorized_logging { _sd_load util && setup_colorized_logging "$@"; }
function setup_logging { _sd_load util && setup_logging "$@"; }
function setup_standard_logging_identity { _sd_load util && setup_standard_logging_identity "$@"; }
function setup_systemd_logging { _sd_load util && setup_systemd_logging "$@"; }
function short_source { _sd_load util && short_source "$@"; }
function test_with_retry { _sd_load util && test_with_retry "$@"; }
function time_totals { _sd_load util && time_totals "$@"; }
function use_database { _sd_load util && use_database "$@"; }
function use_exclusive_service { _sd_load util && use_exclusive_service "$@"; }
function vercmp { _sd_load util && vercmp "$@"; }
function wait_for_service { _sd_load util && wait_for_service "$@"; }
_SD_FAMILY[util]="_sd_driver_only async_cleanup async_init async_inner async_log async_pidof async_print_timing async_wait_dump backtrace bool_to_int cp_it fetch_plugins function_exists get_release_name_from_branch install_default_policy is_ironic_enforce_scope is_ironic_hardware is_ironic_sharded isset load_plugin_settings ping_check plugin_override_defaults policy_add remove_disabled_services run_phase run_plugins save_stackenv setup_colorized_logging setup_logging setup_standard_logging_identity setup_systemd_logging short_source test_with_retry time_totals use_database use_exclusive_service vercmp wait_for_service"

# rootwrap.sh
function add_sudo_secure_path { _sd_load rootwrap && add_sudo_secure_path "$@"; }
function configure_rootwrap { _sd_load rootwrap && configure_rootwrap "$@"; }
function get_rootwrap_location { _sd_load rootwrap && get_rootwrap_location "$@"; }
_SD_FAMILY[rootwrap]="add_sudo_secure_path configure_rootwrap get_rootwrap_location"
