#!/bin/bash
# Record mode, continued (sourced by record.sh): what a recorded download would have written
# exists. curl -o/-O/--remote-name, wget -O, -P or neither: the file, a stand-in that is
# recorded if it is run, under sudo too (devstack-plugin-ceph fetches cephadm, moves it to
# /usr/bin and runs it); tar -x of one (or of nothing, piped in): the members it names,
# stand-ins (magnum's sonobuoy).

# _sd_rec_url_name URL: _SD_NAME = the last part of URL's path, without query or fragment.
function _sd_rec_url_name {
    local path=${1#*://}
    path=${path%%[?#]*}
    [[ $path == */* ]] && _SD_NAME=${path##*/} || _SD_NAME=""
}

# _sd_rec_fetched curl|wget ARGS...: the files the download would have written exist, as
# stand-ins (a downloaded tool is often run: devstack-plugin-ceph's cephadm): curl's -o
# FILE and -O (or --remote-name) paired with the URLs in order, as curl pairs them
# (--remote-name-all: every URL), in --output-dir; wget's -O FILE, else each URL's name
# (index.html for none) in -P DIR. "-" is standard output: no file. Under sudo, root's.
function _sd_rec_fetched {
    local command=$1 arg value="" dir=. name all="" i
    shift
    local -a outputs=() urls=() files=()
    for arg in "$@"; do
        if [[ -n $value ]]; then
            _sd_rec_fetched_value "$arg"
        elif [[ $arg == --@(output|output-document|directory-prefix|output-dir)=* ]]; then
            value=${arg%%=*}
            _sd_rec_fetched_value "${arg#*=}"
        elif [[ $command == curl ]]; then
            _sd_rec_curl_option "$arg"
        elif [[ $arg == @(-O|--output-document|-P|--directory-prefix|-e|-U|--user-agent) \
                || $arg == --header ]]; then
            value=$arg
        elif [[ $arg == -[OP]?* ]]; then
            value=${arg:0:2}
            _sd_rec_fetched_value "${arg:2}"
        elif [[ $arg != -* && $arg =~ ^[A-Za-z][A-Za-z0-9+.-]*:// ]]; then
            urls+=("$arg")
        fi
    done
    if [[ $command == wget ]]; then
        if ((${#outputs[@]})); then
            files=("${outputs[-1]}")
        else
            for arg in "${urls[@]}"; do
                _sd_rec_url_name "$arg"
                files+=("$dir/${_SD_NAME:-index.html}")
            done
        fi
    else
        for ((i = 0; i < ${#urls[@]}; i++)); do
            name=${outputs[i]:-${all:+//remote}}
            if [[ $name == //remote ]]; then
                _sd_rec_url_name "${urls[i]}"
                name=${_SD_NAME:+$dir/$_SD_NAME}
            fi
            [[ -z $name ]] || files+=("$name")
        done
    fi
    for name in "${files[@]}"; do
        [[ $name == - ]] && continue
        { _sd_rec_as_called mkdir -p -- "$(dirname -- "$name")" \
            && _sd_rec_standin "$command ${urls[*]}" \
                | _sd_rec_as_called tee -- "$name" >/dev/null; } 2>/dev/null || :
    done
}

# _sd_rec_fetched_value VALUE: the value of _sd_rec_fetched's option $value (its locals).
function _sd_rec_fetched_value {
    if [[ $value == @(-o|--output|-O|--output-document) ]]; then
        outputs+=("$1")
    elif [[ $value == @(--output-dir|-P|--directory-prefix) ]]; then
        dir=$1
    elif [[ $value == --url ]]; then
        urls+=("$1")
    fi
    value=""
}

# _sd_rec_curl_option ARG: one of curl's words, for _sd_rec_fetched (its locals): a URL,
# an option that names the output or takes a value, or a cluster of short options (-fsSLO)
# up to one that takes a value.
function _sd_rec_curl_option {
    local letters letter
    if [[ $1 == --remote-name ]]; then
        outputs+=(//remote)
    elif [[ $1 == --remote-name-all ]]; then
        all=1
    elif [[ $1 == @(--output|--output-dir|--url|--proxy|--referer|--preproxy) ]]; then
        value=$1
    elif [[ $1 == -[!-]* ]]; then
        letters=${1#-}
        while [[ -n $letters ]]; do
            letter=${letters:0:1}
            letters=${letters:1}
            if [[ $letter == O ]]; then
                outputs+=(//remote)
            elif [[ $letter == [AbcCdDeEFHKmoPQrtTuUwxXyYz] ]]; then
                value=-$letter
                [[ -z $letters ]] || _sd_rec_fetched_value "$letters"
                break
            fi
        done
    elif [[ $1 != -* && $1 =~ ^[A-Za-z][A-Za-z0-9+.-]*:// ]]; then
        urls+=("$1")
    fi
}

# tar ARGS...: an extraction of what a recorded download gave (a stand-in, or nothing on
# standard input: magnum's `wget -qO- $SONOBUOY_URL | sudo tar -zxf - -C /opt/stack/bin
# sonobuoy`) is recorded, and the members it names exist, as stand-ins; any other tar runs
# (standard input passed on). Out of a hook's `set -x` trace, as tar is.
function tar {
    { local -; set +o xtrace; } 2>/dev/null
    local archive="" input="" status=0 member n
    _sd_rec_tar_words "$@"
    if [[ -n $_SD_TAR_EXTRACT && $_SD_TAR_FILE == - ]]; then
        input=$(mktemp) || return 1
        command cat > "$input"
        [[ -s $input ]] || archive=empty
        ! _sd_rec_standin_file "$input" || archive=stand-in
    elif [[ -n $_SD_TAR_EXTRACT ]] && _sd_rec_standin_file "$_SD_TAR_FILE"; then
        archive=stand-in
    fi
    if [[ -z $archive ]]; then      # the program, named as the hook wrote it if it fails
        if [[ -n ${_SD_REC_SUDO:-} ]] && ((EUID != 0)); then
            command sudo -n tar "$@" < "${input:-/dev/stdin}" || status=$?
        else
            command tar "$@" < "${input:-/dev/stdin}" || status=$?
        fi
        [[ -z $input ]] || command rm -f -- "$input"
        return "$status"
    fi
    [[ -z $input ]] || command rm -f -- "$input"
    _sd_rec extract tar "$@"
    _sd_rec_filled "$_SD_TAR_DIR"       # what it names not, copies out of it are recorded
    for member in "${_SD_TAR_MEMBERS[@]}"; do
        [[ $member != *[][*?]* ]] || continue
        member=${member#./}
        for ((n = 0; n < _SD_TAR_STRIP; n++)); do
            [[ $member == */* ]] && member=${member#*/} || member=""
        done
        [[ -n $member ]] || continue
        if [[ $member == */ ]]; then
            _sd_rec_as_called mkdir -p -- "$_SD_TAR_DIR/$member"
        else
            _sd_rec_standin "tar $_SD_TAR_FILE $member" \
                | _sd_rec_as_called install -D -m 755 /dev/stdin "$_SD_TAR_DIR/$member"
        fi 2>/dev/null || :
    done
}

# _sd_rec_tar_words ARGS...: tar's words: _SD_TAR_EXTRACT (non-empty for -x), _SD_TAR_FILE
# (-f; - for standard input), _SD_TAR_DIR (-C), _SD_TAR_STRIP (--strip-components) and
# _SD_TAR_MEMBERS (the rest). Bundled short options (-zxf, or xzf first) take their values
# from the words that follow, in order, as tar does.
function _sd_rec_tar_words {
    local arg letters letter options=1 first=1
    local -a values=()
    _SD_TAR_EXTRACT="" _SD_TAR_FILE=- _SD_TAR_DIR=. _SD_TAR_STRIP=0 _SD_TAR_MEMBERS=()
    for arg in "$@"; do
        if ((${#values[@]})); then
            case ${values[0]} in
                f | --file) _SD_TAR_FILE=$arg ;;
                C | --directory) _SD_TAR_DIR=$arg ;;
                --strip-components) _SD_TAR_STRIP=$arg ;;
            esac
            values=("${values[@]:1}")
        elif [[ -n $options && $arg == -- ]]; then
            options=""
        elif [[ -n $options && $arg == --* ]]; then
            case $arg in
                --extract | --get) _SD_TAR_EXTRACT=1 ;;
                --file=*) _SD_TAR_FILE=${arg#*=} ;;
                --directory=*) _SD_TAR_DIR=${arg#*=} ;;
                --strip-components=*) _SD_TAR_STRIP=${arg#*=} ;;
                --file | --directory | --strip-components | --exclude | --transform \
                    | --files-from | --owner | --group | --mode | --use-compress-program)
                    values+=("$arg") ;;
            esac
        elif [[ -n $options && ( $arg == -?* || ( -n $first && $arg =~ ^[A-Za-z]+$ ) ) ]]; then
            letters=${arg#-}
            while [[ -n $letters ]]; do
                letter=${letters:0:1} letters=${letters:1}
                [[ $letter != x ]] || _SD_TAR_EXTRACT=1
                if [[ $letter == [fCTXbgHKNVLFI] ]]; then
                    if [[ -n $letters && $arg == -* ]]; then    # -fFILE, -CDIR
                        case $letter in
                            f) _SD_TAR_FILE=$letters ;;
                            C) _SD_TAR_DIR=$letters ;;
                        esac
                        letters=""
                    else
                        values+=("$letter")
                    fi
                fi
            done
        else
            _SD_TAR_MEMBERS+=("$arg")
        fi
        first=""
    done
}

# sha256sum -c LIST... (md5sum, sha1sum...): a check that names a stand-in of a recorded
# download is recorded (it would fail on the stand-in: lib/etcd3 checks its tarball); any
# other runs. (A list on standard input cannot be read twice: it runs.)
function _sd_rec_checksum {
    local command=$1 arg check="" options=1 line name
    shift
    local -a lists=()
    for arg in "$@"; do
        if [[ -n $options && $arg == -- ]]; then
            options=""
        elif [[ -n $options && ( $arg == --check || ( $arg == -[!-]* && $arg == *c* ) ) ]]; then
            check=1
        elif [[ -z $options || $arg != -* ]]; then
            lists+=("$arg")
        fi
    done
    for arg in "${lists[@]}"; do
        [[ -n $check && $arg != - && -r $arg ]] || continue
        while IFS= read -r line; do
            if [[ $line =~ ^[A-Za-z0-9-]+\ \((.*)\)\ =\ [[:xdigit:]]+$ ]]; then   # BSD's
                name=${BASH_REMATCH[1]}
            else
                name=${line#*[[:space:]]}
                name=${name#[ *]}
            fi
            if _sd_rec_standin_file "$name"; then
                _sd_rec verify "$command" "$@"
                return 0
            fi
        done < "$arg"
    done
    command "$command" "$@"
}
for _sd_name in md5sum sha1sum sha224sum sha256sum sha384sum sha512sum b2sum; do
    eval "function $_sd_name { { local -; set +o xtrace; } 2>/dev/null
        _sd_rec_checksum $_sd_name \"\$@\"; }"
    _SD_RUNTIME_FUNCS[$_sd_name]=1
done
unset _sd_name

_SD_RUNTIME_FUNCS+=(
    [_sd_rec_checksum]=1 [_sd_rec_url_name]=1 [_sd_rec_fetched]=1 [_sd_rec_fetched_value]=1
    [_sd_rec_curl_option]=1 [tar]=1 [_sd_rec_tar_words]=1
)
