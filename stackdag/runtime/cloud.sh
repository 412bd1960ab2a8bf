#!/bin/bash
# The cloud helpers of DevStack's functions-common and functions: keystone's
# get_or_create_* / get_or_add_* (through the openstack CLI, with DevStack's arguments and
# cloud names), endpoints, images, clouds.yaml, oscwrap. Sourced by functions.sh on first
# use.
#
# Each prints what DevStack's prints: the id(s) the CLI answered, as one line of
# blank-separated words (DevStack's unquoted `echo $id`).
# Differs from DevStack: the words are never glob-expanded, and a failing openstack call
# makes the helper fail with its status (DevStack's ran in $(...) without errexit, went on,
# and printed an empty id, so `id=$(get_or_create_...)` never stopped a hook).

# _sd_echo_words TEXT: TEXT's words on one line.
function _sd_echo_words {
    local -a words
    _sd_words words "${1:-}"
    local IFS=' '
    echo "${words[*]}"
}

# _sd_osc ARGS...: openstack --os-cloud devstack-system-admin ARGS (the cloud DevStack's
# keystone helpers use; OS_CLOUD plays no part).
function _sd_osc {
    openstack --os-cloud devstack-system-admin "$@"
}

# get_or_create_domain NAME DESCRIPTION: the domain's id.
function get_or_create_domain {
    local id
    id=$(_sd_osc domain create "${1:-}" --description "${2:-}" --or-show -f value -c id) || return
    _sd_echo_words "$id"
}

# get_or_create_group NAME DOMAIN [DESCRIPTION]: the group's id.
function get_or_create_group {
    local id
    id=$(_sd_osc group create "${1:-}" --domain "${2:-}" --description "${3:-}" --or-show \
        -f value -c id) || return
    _sd_echo_words "$id"
}

# get_or_create_user NAME PASSWORD DOMAIN [EMAIL]: the user's id.
function get_or_create_user {
    local id
    local -a email=()
    [[ -z ${4:-} ]] || email=("--email=$4")
    id=$(_sd_osc user create "${1:-}" --password "${2:-}" "--domain=${3:-}" "${email[@]}" \
        --or-show -f value -c id) || return
    _sd_echo_words "$id"
}

# get_or_create_project NAME DOMAIN: the project's id.
function get_or_create_project {
    local id
    id=$(_sd_osc project create "${1:-}" "--domain=${2:-}" --or-show -f value -c id) || return
    _sd_echo_words "$id"
}

# get_or_create_role NAME: the role's id.
function get_or_create_role {
    local id
    id=$(_sd_osc role create "${1:-}" --or-show -f value -c id) || return
    _sd_echo_words "$id"
}

# _sd_domain_args [USER_DOMAIN] [PROJECT_DOMAIN]: _SD_DOMAIN_ARGS = --user-domain X
# --project-domain Y, for those given.
function _sd_domain_args {
    _SD_DOMAIN_ARGS=()
    [[ -z ${1:-} ]] || _SD_DOMAIN_ARGS+=(--user-domain "$1")
    [[ -z ${2:-} ]] || _SD_DOMAIN_ARGS+=(--project-domain "$2")
    return 0
}

# _sd_role_added ROLE WHO...: add the role (idempotent in keystone), then print it as the
# assignment list for the same user/group and scope shows it.
function _sd_role_added {
    local role=$1 out
    shift
    _sd_osc role add "$role" "$@" || return
    out=$(_sd_osc role assignment list --role "$role" "$@" -c Role -f value) || return
    _sd_echo_words "$out"
}

# get_or_add_user_project_role ROLE USER PROJECT [USER_DOMAIN PROJECT_DOMAIN].
function get_or_add_user_project_role {
    _sd_domain_args "${4:-}" "${5:-}"
    _sd_role_added "${1:-}" --user "${2:-}" --project "${3:-}" "${_SD_DOMAIN_ARGS[@]}"
}

# get_or_add_user_domain_role ROLE USER DOMAIN.
function get_or_add_user_domain_role {
    _sd_role_added "${1:-}" --user "${2:-}" --domain "${3:-}"
}

# get_or_add_user_system_role ROLE USER SYSTEM [USER_DOMAIN]: add the role only if the
# assignment list does not show it yet.
function get_or_add_user_system_role {
    local out
    _sd_domain_args "${4:-}"
    out=$(_sd_osc role assignment list --role "${1:-}" --user "${2:-}" --system "${3:-}" \
        "${_SD_DOMAIN_ARGS[@]}" -f value -c Role) || return
    if [[ -z $out ]]; then
        _sd_osc role add "${1:-}" --user "${2:-}" --system "${3:-}" "${_SD_DOMAIN_ARGS[@]}" \
            || return
        out=$(_sd_osc role assignment list --role "${1:-}" --user "${2:-}" \
            --system "${3:-}" "${_SD_DOMAIN_ARGS[@]}" -f value -c Role) || return
    fi
    _sd_echo_words "$out"
}

# get_or_add_group_project_role ROLE GROUP PROJECT.
# As in DevStack, the "role add" runs without --os-cloud (it uses OS_CLOUD or the OS_*
# variables); the listing uses devstack-system-admin.
function get_or_add_group_project_role {
    local out
    openstack role add "${1:-}" --group "${2:-}" --project "${3:-}" || return
    out=$(_sd_osc role assignment list --role "${1:-}" --group "${2:-}" --project "${3:-}" \
        -f value -c Role) || return
    _sd_echo_words "$out"
}

# get_or_create_service NAME TYPE DESCRIPTION: the id of the service of that TYPE ("service
# show TYPE"), created if the show fails.
function get_or_create_service {
    local id
    id=$(_sd_osc service show "${2:-}" -f value -c id 2>/dev/null \
        || _sd_osc service create "${2:-}" --name "${1:-}" "--description=${3:-}" -f value -c id) || return
    _sd_echo_words "$id"
}

# _sd_endpoint SERVICE INTERFACE URL REGION: print the id of SERVICE's endpoint for that
# interface and region, created with URL if the list shows none.
function _sd_endpoint {
    local id
    id=$(_sd_osc endpoint list --service "$1" --interface "$2" --region "$4" -c ID -f value) || return
    if [[ -z $id ]]; then
        id=$(_sd_osc endpoint create "$1" "$2" "$3" --region "$4" -f value -c id) || return
    fi
    _sd_echo_words "$id"
}

# get_or_create_endpoint SERVICE REGION PUBLIC_URL [ADMIN_URL] [INTERNAL_URL]: one endpoint
# per interface given. As in DevStack, the admin and internal endpoints' ids are printed
# first (each on its own line), then the public one's.
function get_or_create_endpoint {
    local public
    public=$(_sd_endpoint "${1:-}" public "${3:-}" "${2:-}") || return
    [[ -z ${4:-} ]] || _sd_endpoint "${1:-}" admin "$4" "${2:-}" || return
    [[ -z ${5:-} ]] || _sd_endpoint "${1:-}" internal "$5" "${2:-}" || return
    echo "$public"
}

# get_endpoint_url SERVICE INTERFACE: the URL(s) keystone lists for it.
function get_endpoint_url {
    local out
    out=$(_sd_osc endpoint list --service "${1:-}" --interface "${2:-}" -c URL -f value) || return
    _sd_echo_words "$out"
}

# oscwrap ARGS...: openstack ARGS, timing each call into $OSCWRAP_TIMER_FILE when set.
function oscwrap {
    local start=${EPOCHREALTIME/[.,]/} rc=0 out
    out=$(command openstack "$@") || rc=$?
    if [[ -n ${OSCWRAP_TIMER_FILE:-} ]]; then
        local end=${EPOCHREALTIME/[.,]/}
        echo $(((end - start) / 1000)) >> "$OSCWRAP_TIMER_FILE"
    fi
    echo "$out"
    return "$rc"
}

# install_oscwrap / cleanup_oscwrap: DevStack aliases openstack to oscwrap to time it.
# Differs from DevStack: no alias (hooks are sourced, aliases would not apply across
# steps); oscwrap only times the calls made through it, and cleanup adds them up.
function install_oscwrap {
    OSCWRAP_TIMER_FILE=${OSCWRAP_TIMER_FILE:-$STACKDAG_LOG_DIR/oscwrap.times}
}

function cleanup_oscwrap {
    local total=0 ms
    if [[ -n ${OSCWRAP_TIMER_FILE:-} && -r $OSCWRAP_TIMER_FILE ]]; then
        while read -r ms; do
            [[ $ms =~ ^[0-9]+$ ]] && total=$((total + ms))
        done < "$OSCWRAP_TIMER_FILE"
        rm -f "$OSCWRAP_TIMER_FILE"
    fi
    declare -gA _SD_TIME_TOTAL
    _SD_TIME_TOTAL[osc]=$total
}

# install_openstack_cli_server: DevStack's openstack-cli-server is part of its own files/.
function install_openstack_cli_server {
    _sd_fail 1 "install_openstack_cli_server needs DevStack's files/openstack-cli-server:" \
        "set [stack] devstack to a DevStack checkout"
}

# write_clouds_yaml: $OPENSTACKCLIENT_CONF_DIR/clouds.yaml with DevStack's clouds (devstack,
# devstack-admin, devstack-admin-demo, devstack-alt, devstack-alt-member,
# devstack-alt-reader, devstack-reader, devstack-system-admin, devstack-system-member,
# devstack-system-reader), all against $KEYSTONE_SERVICE_URI in $REGION_NAME with
# $ADMIN_PASSWORD, then "functional: image_name".
# Differs from DevStack: the file is written whole (DevStack's tools/update_clouds_yaml.py
# merged into an existing one), and through sudo only if the directory is not writable.
function write_clouds_yaml {
    local dir=${OPENSTACKCLIENT_CONF_DIR:-/etc/openstack}
    CLOUDS_YAML=$dir/clouds.yaml
    local cacert="" spec name user project scope text="clouds:"$'\n'
    [[ -n ${SSL_BUNDLE_FILE:-} && -f $SSL_BUNDLE_FILE ]] && cacert=$SSL_BUNDLE_FILE
    for spec in devstack:demo:demo devstack-admin:admin:admin \
            devstack-admin-demo:admin:demo devstack-alt:alt_demo:alt_demo \
            devstack-alt-member:alt_demo_member:alt_demo \
            devstack-alt-reader:alt_demo_reader:alt_demo \
            devstack-reader:demo_reader:demo devstack-system-admin:admin: \
            devstack-system-member:system_member: devstack-system-reader:system_reader:; do
        IFS=: read -r name user project <<< "$spec"
        text+="  $name:"$'\n'"    auth:"$'\n'
        text+="      auth_url: ${KEYSTONE_SERVICE_URI:-}"$'\n'
        text+="      username: $user"$'\n'"      password: ${ADMIN_PASSWORD:-}"$'\n'
        text+="      user_domain_id: default"$'\n'
        if [[ -n $project ]]; then
            text+="      project_name: $project"$'\n'"      project_domain_id: default"$'\n'
        else
            text+="      system_scope: all"$'\n'
        fi
        text+="    region_name: ${REGION_NAME:-RegionOne}"$'\n'
        text+="    identity_api_version: '3'"$'\n'
        [[ -z $cacert ]] || text+="    cacert: $cacert"$'\n'
    done
    text+="functional:"$'\n'"  image_name: ${DEFAULT_IMAGE_NAME:-}"$'\n'
    if [[ -w $dir || (! -e $dir && -w ${dir%/*}) ]]; then
        mkdir -p "$dir"
        printf '%s' "$text" > "$CLOUDS_YAML"
    else
        _sd_sudo mkdir -p "$dir"
        printf '%s' "$text" | _sd_sudo tee "$CLOUDS_YAML" >/dev/null
    fi
}

# upload_image URL: download the image (get_extra_file) and create it in glance as
# DevStack does for the plain formats: .qcow2, .img (the format qemu-img reports), .raw,
# .vmdk, .vhd(x), .iso. The image is public, named after the file
# without its extension. In record mode (packages = "record") it is recorded instead.
# Differs from DevStack: no special cases for xen, uec kernel/ramdisk triples or vmdk
# descriptors.
function upload_image {
    local url=${1:-}
    [[ -n $url ]] || _sd_fail 1 "upload_image: URL required"
    if _sd_recording; then
        _sd_record image "$url"
        return 0
    fi
    local file name format container=bare
    file=$(get_extra_file "$url")
    name=${file##*/}
    case $name in
        *.qcow2) format=qcow2; name=${name%.qcow2} ;;
        *.img)
            # the real format, as qemu-img sees it; raw if it is none glance knows
            name=${name%.img}
            format=$(qemu-img info "$file" 2>/dev/null | awk '/^file format/ {print $3; exit}')
            [[ ,qcow2,raw,vdi,vmdk,vpc, == *",$format,"* ]] || format=raw
            ;;
        *.raw) format=raw; name=${name%.raw} ;;
        *.vmdk) format=vmdk; name=${name%.vmdk} ;;
        *.vhdx) format=vhdx; name=${name%.vhdx} ;;
        *.vhd) format=vhd; name=${name%.vhd} ;;
        *.iso) format=iso; name=${name%.iso} ;;
        *) _sd_fail 1 "upload_image: unsupported image format: $name" ;;
    esac
    local -a import=()
    [[ ${GLANCE_USE_IMPORT_WORKFLOW:-} == True ]] && import=(--import)
    openstack --os-cloud=devstack-admin --os-region-name="${REGION_NAME:-RegionOne}" \
        image create "$name" --public --container-format "$container" \
        --disk-format "$format" "${import[@]}" --file "$(readlink -f "$file")"
}

# wait_for_compute TIMEOUT: wait until nova lists a nova-compute service for this host (the
# [DEFAULT] host of $NOVA_CONF, or hostname).
function wait_for_compute {
    local timeout=${1:-60} host id="" deadline
    host=$(iniget "${NOVA_CONF:-/etc/nova/nova.conf}" DEFAULT host 2>/dev/null || :)
    [[ -n $host ]] || host=${HOSTNAME:-$(hostname)}
    [[ ${VIRT_DRIVER:-} == fake ]] && host=${HOSTNAME:-$(hostname)}1
    deadline=$((SECONDS + timeout))
    while [[ -z $id ]] && ((SECONDS < deadline)); do
        sleep 1
        id=$(openstack --os-cloud devstack-admin --os-region "${REGION_NAME:-RegionOne}" \
            compute service list --host "$host" --service nova-compute -c ID -f value || :)
    done
    if [[ -z $id ]]; then
        echo "Didn't find service registered by hostname after $timeout seconds"
        openstack --os-cloud devstack-admin --os-region "${REGION_NAME:-RegionOne}" \
            compute service list || :
        return 124
    fi
}

# get_instance_ip VM NETWORK: the VM's address on NETWORK (dies if none).
function get_instance_ip {
    local vm=${1:-} net=${2:-} addresses ip=""
    addresses=$(openstack server show -c addresses -f value "$vm")
    addresses=$(_sd_echo_words "$addresses")
    if [[ $addresses =~ $net=([0-9.]*) ]]; then
        ip=${BASH_REMATCH[1]}
    fi
    if [[ -z $ip ]]; then
        echo "addresses of server $vm : $addresses"
        _sd_fail 1 "[Fail] Couldn't get ipaddress of VM"
    fi
    echo "$ip"
}
