#!/bin/bash
# DevStack's inc/rootwrap: a project's oslo.rootwrap config and its sudoers entry. Sourced
# by functions.sh on first use. The system files (/etc/PROJECT/rootwrap*, /etc/sudoers.d)
# are written as root; in record mode (packages = "record") the steps are recorded instead.

SUDO_SECURE_PATH_FILE=${SUDO_SECURE_PATH_FILE:-/etc/sudoers.d/zz-secure-path}

# get_rootwrap_location PROJECT: where PROJECT-rootwrap is installed.
function get_rootwrap_location {
    echo "$(get_python_exec_prefix)/${1:-}-rootwrap"
}

# add_sudo_secure_path DIR: append DIR to sudo's secure_path for STACK_USER (kept in
# $SUDO_SECURE_PATH_FILE), unless it is there already.
function add_sudo_secure_path {
    local dir=${1:-} line=""
    if [[ -r $SUDO_SECURE_PATH_FILE ]]; then
        read -r line < "$SUDO_SECURE_PATH_FILE" || :
    else
        line="Defaults:${STACK_USER:-$(id -un)} secure_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/usr/bin:/bin"
    fi
    [[ $line == *"$dir"* ]] && return 0
    if _sd_recording; then
        _sd_record system sudoers "$SUDO_SECURE_PATH_FILE" "$line:$dir"
        return 0
    fi
    echo "$line:$dir" | _sd_sudo tee "$SUDO_SECURE_PATH_FILE"
    _sd_sudo chmod 400 "$SUDO_SECURE_PATH_FILE"
    _sd_sudo chown root:root "$SUDO_SECURE_PATH_FILE"
}

# configure_rootwrap PROJECT: install $<PROJECT>_DIR/etc/PROJECT/rootwrap.conf and
# rootwrap.d/*.filters into /etc/PROJECT (filters_path pointed there, exec_dirs commented
# out), and let STACK_USER run $<PROJECT>_BIN_DIR/PROJECT-rootwrap (and -daemon, if
# installed) through sudo without a password.
function configure_rootwrap {
    local project=${1:-} uc bin dir
    uc=${project^^}
    _sd_valid_name "${uc}_DIR" || _sd_fail 1 "configure_rootwrap: bad project '$project'"
    bin=${uc}_BIN_DIR
    dir=${uc}_DIR
    bin=${!bin:-$(get_python_exec_prefix)}
    dir=${!dir:-}
    local src=$dir/etc/$project etc=/etc/$project user=${STACK_USER:-$(id -un)}
    local rootwrap=$bin/$project-rootwrap
    local rules="$user ALL=(root) NOPASSWD: $rootwrap $etc/rootwrap.conf *"
    [[ -f $bin/$project-rootwrap-daemon ]] \
        && rules+=$'\n'"$user ALL=(root) NOPASSWD: $rootwrap-daemon $etc/rootwrap.conf"
    if _sd_recording; then
        _sd_record system rootwrap "$project" "$src" "$etc"
        _sd_record system sudoers "/etc/sudoers.d/$project-rootwrap"
    else
        _sd_sudo rm -rf "$etc/rootwrap.d"
        _sd_sudo install -d -o root -g root -m 755 "$etc/rootwrap.d"
        _sd_sudo install -o root -g root -m 644 "$src"/rootwrap.d/*.filters "$etc/rootwrap.d"
        _sd_sudo install -o root -g root -m 644 "$src/rootwrap.conf" "$etc/rootwrap.conf"
        _sd_sudo sed -e "s:^filters_path=.*$:filters_path=$etc/rootwrap.d:" \
            -e 's/^exec_dirs=.*/#&/' -i "$etc/rootwrap.conf"
        local tmp=$etc/.sudoers.$$
        printf '%s\n' "$rules" | _sd_sudo tee "$tmp" >/dev/null
        _sd_sudo chmod 0440 "$tmp"
        _sd_sudo chown root:root "$tmp"
        _sd_sudo mv "$tmp" "/etc/sudoers.d/$project-rootwrap"
    fi
    add_sudo_secure_path "${rootwrap%/*}"
}
