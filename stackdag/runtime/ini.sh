#!/bin/bash
# INI files: iniset and friends. Loaded by functions.sh on first use.
#
# The file layout follows DevStack: a section header is "[name]" at column 0 (text after
# the "]" is ignored), an option is "name = value" at column 0, a new section is appended
# after a blank line, and a new option goes directly under its section's first header.
# Differs from DevStack: section names, option names and values are taken literally (no
# sed regex in names; values keep their whitespace, are not glob-expanded, and & \ | / need
# no escaping); a value is trimmed at both ends when read.
#
# Every helper works on the file loaded in memory:
#   _SD_INI_LINES  the lines of the file
#   _SD_INI_HEAD   index of the section's first header line (-1: no such section)
#   _SD_INI_HITS   indices of the option's lines in the section (wherever it appears)

# _sd_ini_load SUDO FILE: read FILE (through sudo if SUDO is set and FILE is unreadable).
function _sd_ini_load {
    _SD_INI_LINES=()
    if [[ -r $2 ]]; then
        mapfile -t _SD_INI_LINES < "$2"
    elif [[ -n $1 && -e $2 ]]; then
        mapfile -t _SD_INI_LINES < <(sudo cat "$2")
    fi
}

# _sd_ini_write SUDO FILE: write the lines back (through sudo if SUDO is set). A file the
# user may not write, in a directory the user may, is replaced by a new one of the same
# mode, the user's, as DevStack's `sed -i` replaces it (designate isets the rootwrap.conf
# it copied with sudo into its config directory, the stack user's).
function _sd_ini_write {
    local -a out=()
    local new
    ((${#_SD_INI_LINES[@]} == 0)) || out=("${_SD_INI_LINES[@]/%/$'\n'}")
    if [[ -n $1 ]]; then
        printf '%s' "${out[@]}" | sudo tee "$2" >/dev/null
    elif [[ -e $2 && ! -w $2 && -w $(dirname -- "$2") ]]; then
        new=$(mktemp -- "$2.XXXXXX") && printf '%s' "${out[@]}" > "$new" \
            && command chmod --reference="$2" -- "$new" && command mv -f -- "$new" "$2"
    else
        printf '%s' "${out[@]}" > "$2"
    fi
}

# _sd_ini_scan SECTION OPTION [commented]: set _SD_INI_HEAD and _SD_INI_HITS. With
# "commented", the hits are commented-out option lines ("# option = ...").
function _sd_ini_scan {
    local section=$1 option=$2 commented=${3:-} in=0 i n=${#_SD_INI_LINES[@]} line
    _SD_INI_HEAD=-1
    _SD_INI_HITS=()
    for ((i = 0; i < n; i++)); do
        line=${_SD_INI_LINES[i]}
        if [[ $line == \[*\]* ]]; then
            in=0
            if [[ $line == "[$section]"* ]]; then
                in=1
                ((_SD_INI_HEAD >= 0)) || _SD_INI_HEAD=$i
            fi
            continue
        fi
        ((in)) && [[ -n $option ]] || continue
        if [[ -n $commented ]]; then
            line=${line#"${line%%[!$' \t']*}"}
            [[ $line == "#"* ]] || continue
            line=${line#"#"}
            line=${line#"${line%%[!$' \t']*}"}
        fi
        [[ $line == "$option"* ]] || continue
        line=${line:${#option}}
        line=${line#"${line%%[!$' \t']*}"}
        if [[ $line == "="* ]]; then
            _SD_INI_HITS+=("$i")
        fi
    done
}

# _sd_ini_value INDEX OPTION: _SD_INI_VALUE = the value on that line, trimmed.
function _sd_ini_value {
    local value=${_SD_INI_LINES[$1]:${#2}}
    value=${value#*=}
    value=${value#"${value%%[![:space:]]*}"}
    _SD_INI_VALUE=${value%"${value##*[![:space:]]}"}
}

# _sd_ini_add_lines INDEX LINE...: insert lines before INDEX.
function _sd_ini_add_lines {
    local at=$1
    shift
    _SD_INI_LINES=("${_SD_INI_LINES[@]:0:at}" "$@" "${_SD_INI_LINES[@]:at}")
}

# _sd_ini_delete_hits: remove the lines in _SD_INI_HITS.
function _sd_ini_delete_hits {
    local i
    for i in "${_SD_INI_HITS[@]}"; do
        unset '_SD_INI_LINES[i]'
    done
    _SD_INI_LINES=("${_SD_INI_LINES[@]}")
    _SD_INI_HITS=()
}

# _sd_ini_ensure_section SECTION: append "\n[SECTION]" when the section is missing
# (after _sd_ini_scan); _SD_INI_HEAD is then its header.
function _sd_ini_ensure_section {
    if ((_SD_INI_HEAD < 0)); then
        _SD_INI_LINES+=("" "[$1]")
        _SD_INI_HEAD=$((${#_SD_INI_LINES[@]} - 1))
    fi
}

# _sd_ini_set SECTION OPTION VALUE: iniset in memory. An existing option keeps its place
# and its spacing around "="; a new one goes directly under the section header.
# Differs from DevStack: other copies of the option in the section are removed (DevStack
# set every copy to the value).
function _sd_ini_set {
    local option=$2 value=$3
    _sd_ini_scan "$1" "$option"
    if ((${#_SD_INI_HITS[@]} == 0)); then
        _sd_ini_ensure_section "$1"
        _sd_ini_add_lines $((_SD_INI_HEAD + 1)) "$option = $value"
        return 0
    fi
    local first=${_SD_INI_HITS[0]}
    local rest=${_SD_INI_LINES[first]:${#option}}
    local before=${rest%%=*} after=${rest#*=}
    _SD_INI_LINES[first]=$option$before=${after%%[!$' \t']*}$value
    _SD_INI_HITS=("${_SD_INI_HITS[@]:1}")
    _sd_ini_delete_hits
}

# _sd_ini OP [-sudo] FILE SECTION OPTION [VALUE...]: the ini helpers' common body.
function _sd_ini {
    local op=$1 sudo="" IFS=$' \t\n'
    shift
    if [[ ${1:-} == -sudo ]]; then
        shift
        ((EUID == 0)) || sudo=sudo
    fi
    local file=${1:-} section=${2:-} option=${3:-}
    if [[ $op == sections ]]; then
        if [[ -z $file || ! -e $file ]]; then
            echo
            return 0
        fi
        section=""
    else
        if [[ -z $section || -z $option ]]; then
            # DevStack's helpers do nothing without a section and option
            case $op in
                get | get_multiline) echo ;;
                has_option) return 1 ;;
            esac
            return 0
        fi
        shift 3
    fi
    [[ -n $file ]] || _sd_fail 1 "${FUNCNAME[2]:-ini}: file name required"
    _sd_ini_load "$sudo" "$file"
    local changed=1 value
    local -a values=()
    case $op in
        set) _sd_ini_set "$section" "$option" "${1:-}" ;;
        get | get_multiline | has_option)
            changed=""
            _sd_ini_scan "$section" "$option"
            if [[ $op == has_option ]]; then
                ((${#_SD_INI_HITS[@]}))
                return
            fi
            if ((${#_SD_INI_HITS[@]} == 0)); then
                echo  # an empty line, as DevStack prints
                return 0
            fi
            [[ $op == get ]] && _SD_INI_HITS=("${_SD_INI_HITS[-1]}")
            for value in "${_SD_INI_HITS[@]}"; do
                _sd_ini_value "$value" "$option"
                values+=("$_SD_INI_VALUE")
            done
            echo "${values[*]}"
            ;;
        add | set_multiline)
            _sd_ini_scan "$section" "$option"
            if [[ $op == add ]]; then
                for value in "${_SD_INI_HITS[@]}"; do
                    _sd_ini_value "$value" "$option"
                    values+=("$option = $_SD_INI_VALUE")
                done
            fi
            for value in "$@"; do values+=("$option = $value"); done
            _sd_ini_delete_hits
            _sd_ini_ensure_section "$section"
            _sd_ini_add_lines $((_SD_INI_HEAD + 1)) "${values[@]}"
            ;;
        add_literal)
            _sd_ini_scan "$section" ""
            _sd_ini_ensure_section "$section"
            _sd_ini_add_lines $((_SD_INI_HEAD + 1)) "$option = ${1:-}"
            ;;
        delete | comment | uncomment)
            value=""
            [[ $op == uncomment ]] && value=commented
            _sd_ini_scan "$section" "$option" "$value"
            ((${#_SD_INI_HITS[@]})) || return 0
            for value in "${_SD_INI_HITS[@]}"; do
                case $op in
                    comment) _SD_INI_LINES[value]="#${_SD_INI_LINES[value]}" ;;
                    uncomment) _SD_INI_LINES[value]=$option${_SD_INI_LINES[value]#*"#"*"$option"} ;;
                esac
            done
            [[ $op != delete ]] || _sd_ini_delete_hits
            ;;
        sections)
            # DevStack: sed 's/^\[\(.*\)\]/\1/p' (greedy: up to the last "]", what follows
            # it is kept), then an unquoted echo: words joined by one space, one newline.
            changed=""
            local - IFS=$' \t\n'
            set -o noglob
            local -a words
            for value in "${_SD_INI_LINES[@]}"; do
                [[ $value == \[*\]* ]] || continue
                local tail=${value##*\]}
                value=${value:1}
                value=${value%\]"$tail"}$tail
                words=($value)
                values+=("${words[@]}")
            done
            echo "${values[*]}"
            ;;
    esac
    [[ -z $changed ]] || _sd_ini_write "$sudo" "$file"
}

# iniset [-sudo] FILE SECTION OPTION VALUE: set one option, creating the file and section.
# An empty SECTION or OPTION does nothing, as in DevStack.
function iniset {
    _sd_quiet _sd_ini set "$@"
}

# iniget FILE SECTION OPTION: print the option's value.
# Differs from DevStack: for an option given several times this is the last value (the one
# oslo.config uses); DevStack printed a mix of all the lines.
function iniget {
    _sd_quiet _sd_ini get "$@"
}

# iniget_multiline FILE SECTION OPTION: all the option's values, in file order, on one
# line separated by spaces.
function iniget_multiline {
    _sd_quiet _sd_ini get_multiline "$@"
}

# ini_has_option [-sudo] FILE SECTION OPTION: true if the option is set in the section.
function ini_has_option {
    _sd_quiet _sd_ini has_option "$@"
}

# iniset_multiline [-sudo] FILE SECTION OPTION VALUE...: replace the option by one line
# per VALUE, in order, directly under the section header.
# Differs from DevStack: each argument is one value (DevStack split values at spaces).
function iniset_multiline {
    _sd_quiet _sd_ini set_multiline "$@"
}

# iniadd [-sudo] FILE SECTION OPTION VALUE...: add values to a multi-valued option (the
# existing values first).
# Differs from DevStack: each argument is one value (DevStack split values at spaces).
function iniadd {
    _sd_quiet _sd_ini add "$@"
}

# iniadd_literal [-sudo] FILE SECTION OPTION VALUE: add one more "OPTION = VALUE" line
# directly under the section header, leaving the other lines alone.
# Differs from DevStack: a missing section is created (DevStack silently did nothing).
function iniadd_literal {
    _sd_quiet _sd_ini add_literal "$@"
}

# inidelete [-sudo] FILE SECTION OPTION: remove every line of the option in the section.
# Differs from DevStack: a missing file is left missing instead of an error.
function inidelete {
    _sd_quiet _sd_ini delete "$@"
}

# inicomment [-sudo] FILE SECTION OPTION: comment out the option's lines ("#option = ...").
function inicomment {
    _sd_quiet _sd_ini comment "$@"
}

# iniuncomment [-sudo] FILE SECTION OPTION: turn "# option = ..." lines back into options.
# Differs from DevStack: only a "#" at the start of the line (after blanks) is removed.
function iniuncomment {
    _sd_quiet _sd_ini uncomment "$@"
}

# iniget_sections FILE: the file's section names on one line, as DevStack prints them: every
# "[...]" line at column 0 in file order (a repeated section twice), the text between the
# first "[" and the last "]" plus what follows it, split into words and joined by one space.
# A missing file prints an empty line.
# Differs from DevStack: names are not glob-expanded against the current directory.
function iniget_sections {
    _sd_quiet _sd_ini sections "$@"
}
