#!/bin/bash
# Addresses and ports: DevStack's network helpers. Sourced by functions.sh on first use.

# cidr2netmask BITS: the IPv4 netmask of a prefix length (24 -> 255.255.255.0).
function cidr2netmask {
    local bits=${1:-0} i out="" octet
    [[ $bits =~ ^[0-9]+$ ]] || bits=0
    for i in 0 1 2 3; do
        if ((bits >= 8)); then
            octet=255
        elif ((bits > 0)); then
            octet=$((256 - (1 << (8 - bits))))
        else
            octet=0
        fi
        bits=$((bits > 8 ? bits - 8 : 0))
        out+=${out:+.}$octet
    done
    echo "$out"
}

# maskip IP MASK: IP AND MASK, octet by octet.
function maskip {
    local -a ip mask
    IFS=. read -r -a ip <<< "${1:-}"
    IFS=. read -r -a mask <<< "${2:-}"
    local i out=""
    for i in 0 1 2 3; do
        out+=${out:+.}$((10#${ip[i]:-0} & 10#${mask[i]:-0}))
    done
    echo "$out"
}

# address_in_net IP CIDR: true if IPv4 address IP is in the network CIDR.
function address_in_net {
    local ip=${1:-} range=${2:-}
    [[ -n $ip && $range == */* ]] || return 1
    local mask
    mask=$(cidr2netmask "${range#*/}")
    [[ $(maskip "${range%/*}" "$mask") == "$(maskip "$ip" "$mask")" ]]
}

# is_ipv4_address TEXT: TEXT contains a dotted quad (DevStack's unanchored test).
function is_ipv4_address {
    [[ ${1:-} =~ ([0-9]{1,3}\.){3}[0-9]{1,3} ]]
}

# ipv6_unquote ADDR: the address without the brackets of "[::1]".
function ipv6_unquote {
    local addr=${1:-}
    addr=${addr//[/}
    echo "${addr//]/}"
}

# is_provider_network: Q_USE_PROVIDER_NETWORKING is True.
function is_provider_network {
    [[ ${Q_USE_PROVIDER_NETWORKING:-} == True ]]
}

# get_default_host_ip FIXED_RANGE FLOATING_RANGE IFACE HOST_IP AF: HOST_IP if it is set
# (and not "dhcp"); else the first address (af inet or inet6) of IFACE, or of the interface
# of the default route, that is in neither range (IPv4) or not temporary (IPv6). Prints an
# empty line when there is none (no route, no `ip`).
function get_default_host_ip {
    local fixed=${1:-} floating=${2:-} iface=${3:-} host_ip=${4:-} af=${5:-inet}
    if [[ -n $host_ip && $host_ip != dhcp ]]; then
        echo "$host_ip"
        return 0
    fi
    host_ip=""
    if type -P ip >/dev/null; then
        local line word prev
        local -a words
        if [[ -z $iface ]]; then
            while read -r line; do
                [[ $line == default* && $line == *" via "* ]] || continue
                _sd_words words "$line"
                prev=""
                for word in "${words[@]}"; do
                    [[ $prev == dev ]] && { iface=$word; break 2; }
                    prev=$word
                done
            done < <(ip -f "$af" route list match default table all 2>/dev/null || :)
        fi
        if [[ -n $iface ]]; then
            while read -r line; do
                [[ $line == "$af "* && $line != *temporary* ]] || continue
                _sd_words words "$line"
                word=${words[1]%%/*}
                if [[ $af == inet6 ]] || ! { address_in_net "$word" "$fixed" \
                        || address_in_net "$word" "$floating"; }; then
                    host_ip=$word
                    break
                fi
            done < <(LC_ALL=C ip -f "$af" addr show "$iface" 2>/dev/null || :)
        fi
    fi
    echo "$host_ip"
}

# get_random_port: a free TCP port, counting down from the top of the local port range.
# Differs from DevStack: asks ss (or /proc/net/tcp*) instead of `sudo lsof` per port.
function get_random_port {
    local lower=32768 upper=60999 port line
    { read -r lower upper < /proc/sys/net/ipv4/ip_local_port_range; } 2>/dev/null || :
    local -A used=()
    local file
    for file in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do
        [[ -r $file ]] || continue
        while read -r _ line _; do
            [[ $line == *:* ]] || continue
            used[$((16#${line##*:}))]=1
        done < "$file"
    done
    for ((port = upper; port >= lower; port--)); do
        [[ -n ${used[$port]:-} ]] || break
    done
    echo "$port"
}

# generate_hex_string SIZE: SIZE random bytes as lower-case hex.
function generate_hex_string {
    local size=${1:-0} out="" byte
    [[ $size =~ ^[0-9]+$ ]] || _sd_fail 1 "generate_hex_string: size required"
    while ((${#out} < size * 2)); do
        printf -v byte '%04x' $((SRANDOM & 0xffff))
        out+=$byte
    done
    echo "${out:0:size*2}"
}

# export_proxy_variables: export http_proxy, https_proxy and no_proxy when they are set.
function export_proxy_variables {
    [[ ! -v http_proxy ]] || export http_proxy
    [[ ! -v https_proxy ]] || export https_proxy
    [[ ! -v no_proxy ]] || export no_proxy
}

# set_mtu DEV MTU: ip link set mtu MTU dev DEV (as root).
function set_mtu {
    _sd_sudo ip link set mtu "${2:-}" dev "${1:-}"
}
