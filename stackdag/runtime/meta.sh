#!/bin/bash
# local.conf meta-sections ([[group|file]]) and merging INI text into config files.
# Loaded by functions.sh on first use.
#
# Differs from DevStack: nothing in a merged body is evaluated (DevStack eval'd it: $(cmd)
# and backticks ran, backslashes were lost, quotes split words). Values have $NAME and
# ${NAME} expanded, as local.conf users rely on (an unset one is empty, \$ is a literal $),
# and everything else is kept literally; the config file name has $NAME, ${NAME} and
# ${NAME[key]} expanded and must not use anything else.

# _sd_expand_value TEXT: _SD_EXPANDED = TEXT with $NAME and ${NAME} replaced by their
# values (empty when unset); "\$" gives "$"; any other $ or backslash is kept as it is.
function _sd_expand_value {
    local text=$1 out="" name
    while [[ $text == *'$'* ]]; do
        out+=${text%%'$'*}
        text=${text#*'$'}
        if [[ $out == *'\' ]]; then
            out=${out%'\'}'$'
        elif [[ $text =~ ^\{([A-Za-z_][A-Za-z0-9_]*)\}(.*)$ || $text =~ ^([A-Za-z_][A-Za-z0-9_]*)(.*)$ ]]; then
            name=${BASH_REMATCH[1]}
            text=${BASH_REMATCH[2]}
            out+=${!name-}
        else
            out+='$'
        fi
    done
    _SD_EXPANDED=$out$text
}

# _sd_expand_path EXPR: _SD_EXPANDED = EXPR with $NAME, ${NAME} and ${NAME[key]} replaced
# by their values and a leading ~/ by $HOME. Returns 1 if a variable is unset or empty
# (_SD_EXPAND_ERROR names it), 2 for anything else that looks like an expansion.
function _sd_expand_path {
    local expr=$1 out="" name attrs
    _SD_EXPAND_ERROR=""
    if [[ $expr == *'`'* ]]; then
        _SD_EXPAND_ERROR="only \$NAME and \${NAME} are expanded in a config file name"
        return 2
    fi
    [[ $expr != "~/"* ]] || expr=$HOME${expr:1}
    while [[ $expr == *'$'* ]]; do
        out+=${expr%%'$'*}
        expr=${expr#*'$'}
        if [[ $expr =~ ^\{([A-Za-z_][A-Za-z0-9_]*)(\[[A-Za-z0-9_.:@+-]+\])?\}(.*)$ ]]; then
            name=${BASH_REMATCH[1]}${BASH_REMATCH[2]}
            expr=${BASH_REMATCH[3]}
            attrs=${!BASH_REMATCH[1]@a}
            if [[ -n ${BASH_REMATCH[2]} && $attrs != *A* && ! ${BASH_REMATCH[2]} =~ ^\[[0-9]+\]$ ]]; then
                _SD_EXPAND_ERROR="\${$name}: only an associative array takes a name as key"
                return 2
            fi
        elif [[ $expr =~ ^([A-Za-z_][A-Za-z0-9_]*)(.*)$ ]]; then
            name=${BASH_REMATCH[1]}
            expr=${BASH_REMATCH[2]}
        else
            _SD_EXPAND_ERROR="only \$NAME and \${NAME} are expanded in a config file name"
            return 2
        fi
        if [[ -z ${!name:-} ]]; then
            _SD_EXPAND_ERROR="\$$name is undefined"
            return 1
        fi
        out+=${!name}
    done
    _SD_EXPANDED=$out$expr
}

# _sd_meta_blocks LOCALCONF GROUP [CONFIGFILE]: read local.conf. _SD_META_FILES = the file
# text of every [[GROUP|file]] header in order (repeats included); _SD_MERGE_BODY = the
# lines of every block whose header is [[GROUP|CONFIGFILE]], in order. A header starts at
# column 0; only its first word counts, with every [ and ] removed.
function _sd_meta_blocks {
    local group=$2 file=${3-} line field take=""
    _SD_META_FILES=()
    _SD_MERGE_BODY=()
    [[ -r $1 ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^\[\[.+\|.*\]\] ]]; then
            field=${line%%[[:space:]]*}
            field=${field//[][]/}
            take=""
            [[ ${field%%|*} == "$group" ]] || continue
            field=${field#*|}
            field=${field%%|*}
            _SD_META_FILES+=("$field")
            [[ ${3+set} && $field == "$file" ]] && take=1
            continue
        fi
        [[ -z $take ]] || _SD_MERGE_BODY+=("$line")
    done < "$1"
}

# get_meta_section LOCALCONF GROUP CONFIGFILE: print the bodies of the [[GROUP|CONFIGFILE]]
# blocks (CONFIGFILE as written in the header, unexpanded), in file order.
function get_meta_section {
    [[ -n ${3:-} ]] || return 0
    _sd_meta_blocks "${1:-}" "${2:-}" "$3"
    ((${#_SD_MERGE_BODY[@]} == 0)) || printf '%s\n' "${_SD_MERGE_BODY[@]}"
}

# get_meta_section_files LOCALCONF GROUP: print the file of every [[GROUP|file]] header.
function get_meta_section_files {
    _sd_meta_blocks "${1:-}" "${2:-}"
    ((${#_SD_META_FILES[@]} == 0)) || printf '%s\n' "${_SD_META_FILES[@]}"
}

# _sd_merge_body: parse _SD_MERGE_BODY as local.conf INI text. "[section]" lines start a
# section, "#" lines and indented lines are ignored, other lines are "key = value" split
# at the first "=" (a line without "=" is a key with an empty value). Sets
# _SD_MERGE_SECTIONS (in order of first use) and, per section and key, the values in
# order: _SD_MERGE_KEYS (section<US>key, in order) and _SD_MERGE_VALUES[section<US>key<US>n].
# Differs from DevStack: a section name is everything between the brackets, trimmed
# (DevStack kept its first word only).
function _sd_merge_body {
    local us=$'\x1f' line section="" key value
    local -A count=() seen=()
    _SD_MERGE_SECTIONS=()
    _SD_MERGE_KEYS=()
    declare -gA _SD_MERGE_VALUES=()
    for line in "${_SD_MERGE_BODY[@]}"; do
        case $line in
            \[*\]*)
                section=${line#\[}
                section=${section%%\]*}
                section=${section#"${section%%[![:space:]]*}"}
                section=${section%"${section##*[![:space:]]}"}
                continue
                ;;
            "" | "#"* | [[:space:]]*) continue ;;
        esac
        key=${line%%=*}
        key=${key%"${key##*[![:space:]]}"}
        value=""
        [[ $line != *=* ]] || value=${line#*=}
        value=${value#"${value%%[![:space:]]*}"}
        value=${value%"${value##*[![:space:]]}"}
        _sd_expand_value "$value"
        value=$_SD_EXPANDED
        # DevStack's iniset ignores an empty section or key
        [[ -n $section && -n $key ]] || continue
        if [[ -z ${count[$section$us$key]:-} ]]; then
            [[ -n ${seen[$section]:-} ]] || _SD_MERGE_SECTIONS+=("$section")
            seen[$section]=1
            _SD_MERGE_KEYS+=("$section$us$key")
            count[$section$us$key]=0
        fi
        _SD_MERGE_VALUES[$section$us$key$us${count[$section$us$key]}]=$value
        count[$section$us$key]=$((count[$section$us$key] + 1))
    done
    _SD_MERGE_COUNT=()
    for key in "${_SD_MERGE_KEYS[@]}"; do
        _SD_MERGE_COUNT+=("${count[$key]}")
    done
}

# _sd_note_output FILE: record that this step wrote FILE (outputs/STEP, one path a line,
# the step's name spelled as stackdag/state.py's file_name does), so that the step runs
# again once FILE is gone, after a reboot say (stackdag/freshness.py).
function _sd_note_output {
    [[ -n ${_SD_STEP:-} && -n ${STACKDAG_OUTPUTS_DIR:-} ]] || return 0
    local file=$1
    [[ $file == /* ]] || file=$PWD/$file
    [[ -d $STACKDAG_OUTPUTS_DIR ]] || mkdir -p "$STACKDAG_OUTPUTS_DIR"
    printf '%s\n' "$file" >> "$STACKDAG_OUTPUTS_DIR/${_SD_STEP//\//+}"
}

# _sd_merge_into REALFILE: merge _SD_MERGE_BODY into REALFILE, creating it and its
# directory if needed; dies when it cannot (write it, say). A key given once is iniset
# (replaced in place, or added); a key given several times replaces all the option's
# lines. New options end in body order.
function _sd_merge_into {
    local real=$1 dir=. sudo=""
    [[ $real == */* ]] && dir=${real%/*}
    dir=${dir:-/}
    if [[ -e $dir && ! -d $dir ]]; then
        _sd_fail 1 "bogus config file specification: $dir is not a directory ($real)"
    fi
    if [[ ! -d $dir ]]; then
        mkdir -p "$dir" 2>/dev/null || { ((EUID != 0)) && sudo mkdir -p "$dir" \
            && sudo chown "${STACK_USER:-$(id -un)}" "$dir"; } \
            || _sd_fail 1 "could not create directory $dir for $real"
    fi
    if [[ -e $real && ! -w $real ]] || [[ ! -e $real && ! -w $dir ]]; then
        ((EUID == 0)) || sudo=sudo
    fi
    if [[ ! -e $real ]]; then
        { if [[ -n $sudo ]]; then sudo touch "$real"; else : > "$real"; fi; } 2>/dev/null \
            || _sd_fail 1 "could not create config file $real"
    fi
    _sd_note_output "$real"
    _sd_merge_body
    ((${#_SD_MERGE_KEYS[@]})) || return 0
    _sd_ini_load "$sudo" "$real"
    local us=$'\x1f' section i n key option
    local -a values
    for section in "${_SD_MERGE_SECTIONS[@]}"; do
        # Options are applied last to first: each new one goes directly under the header,
        # so they end in body order.
        for ((i = ${#_SD_MERGE_KEYS[@]} - 1; i >= 0; i--)); do
            key=${_SD_MERGE_KEYS[i]}
            [[ ${key%%"$us"*} == "$section" ]] || continue
            option=${key#*"$us"}
            if ((_SD_MERGE_COUNT[i] == 1)); then
                _sd_ini_set "$section" "$option" "${_SD_MERGE_VALUES[$key${us}0]}"
                continue
            fi
            values=()
            for ((n = 0; n < _SD_MERGE_COUNT[i]; n++)); do
                values+=("$option = ${_SD_MERGE_VALUES[$key$us$n]}")
            done
            _sd_ini_scan "$section" "$option"
            _sd_ini_delete_hits
            _sd_ini_ensure_section "$section"
            _sd_ini_add_lines $((_SD_INI_HEAD + 1)) "${values[@]}"
        done
    done
    # as DevStack's merge_config_file, a target that cannot be written ends the hook (die)
    _sd_ini_write "$sudo" "$real" || _sd_fail $? "could not write config file $real"
}

# _sd_config_target EXPR [WHERE]: _SD_EXPANDED = the config file EXPR names. False (after
# a warning, naming WHERE the section is when given) when a variable in it is undefined;
# dies on any other expansion.
function _sd_config_target {
    local rc=0
    _sd_expand_path "$1" || rc=$?
    if ((rc == 1)); then
        if [[ -n ${2:-} ]]; then
            _SD_MESSAGE="[WARNING] $2: merge into $1 skipped: $_SD_EXPAND_ERROR"
        else
            _sd_message WARNING "unknown config file specification: $1 ($_SD_EXPAND_ERROR)"
        fi
        echo "$_SD_MESSAGE"
        _sd_note_warning "$_SD_MESSAGE"
        return 1
    fi
    ((rc == 0)) || _sd_fail 1 "bad config file specification '$1': $_SD_EXPAND_ERROR"
}

# merge_config_text FILE_EXPR TEXT_FILE [WHERE]: merge the INI text in TEXT_FILE into the
# file named by FILE_EXPR (stackdag's [[config]] steps; WHERE: the section's file:line).
# Variables in FILE_EXPR are expanded, nothing else; an undefined one skips the merge with
# a warning, as DevStack does for an empty file name.
# Differs from DevStack: any undefined variable in the name skips the merge (DevStack only
# skipped when the whole name was empty, and wrote e.g. /nova.conf for $UNDEF/nova.conf).
function merge_config_text {
    local expr=${1:-} text=${2:-}
    [[ -n $expr ]] || _sd_fail 1 "merge_config_text: config file name required"
    [[ -r $text ]] || _sd_fail 1 "merge_config_text: cannot read $text"
    _sd_config_target "$expr" "${3:-}" || return 0
    mapfile -t _SD_MERGE_BODY < "$text"
    _sd_quiet _sd_merge_into "$_SD_EXPANDED"
}

# merge_config_file LOCALCONF GROUP CONFIGFILE: merge the [[GROUP|CONFIGFILE]] blocks of
# LOCALCONF into the file CONFIGFILE names (CONFIGFILE as written in the header, e.g.
# '$NOVA_CONF'; its variables are expanded). The file is created if missing.
function merge_config_file {
    local localconf=${1:-} group=${2:-} configfile=${3:-}
    [[ -n $configfile ]] || _sd_fail 1 "merge_config_file: LOCALCONF GROUP CONFIGFILE required"
    _sd_config_target "$configfile" || return 0
    local real=$_SD_EXPANDED
    _sd_meta_blocks "$localconf" "$group" "$configfile"
    _sd_quiet _sd_merge_into "$real"
}

# merge_config_group LOCALCONF GROUP...: merge every file of the groups, in order.
# Differs from DevStack: a file whose name is undefined is skipped with a warning and the
# group goes on (DevStack skipped every remaining file of the group too).
function merge_config_group {
    local localconf=${1:-} group file
    [[ -r $localconf ]] || return 0
    shift
    local -A merged=()
    for group in "$@"; do
        _sd_meta_blocks "$localconf" "$group"
        for file in "${_SD_META_FILES[@]}"; do
            [[ -z ${merged[$group|$file]:-} ]] || continue
            merged[$group|$file]=1
            merge_config_file "$localconf" "$group" "$file"
        done
    done
}
