#!/bin/bash
# Record mode, continued (sourced by record.sh): the openstack CLI, recorded, answering as a
# new cloud would, with what this run made in it (fake ids).

# openstack ARGS...: recorded; answers with an id made from the arguments, so that
# `id=$(get_or_create_... )` chains go on. The cloud is new: `... list` answers nothing
# and `... show` finds nothing, so that the get_or_create_* helpers record the create;
# but what this run created or set is there: its show answers with the id the create
# gave (magnum sets its image's properties, then shows it) (_sd_rec_cloud).
# The answer has the format asked for (-f value|shell|json|yaml, table by default) and the
# columns asked for (-c; id by default), each with the same fake id: plugins read it as
# `-f value -c id`, `eval $(... -f shell -c id)`, or `| grep " id " | get_field 2`.
function openstack {
    { local -; set +o xtrace; } 2>/dev/null
    _sd_rec openstack openstack "$@"
    local arg previous="" format=table prefix="" sum id="" IFS=' '
    local -a columns=()
    local listing=""
    for arg in "$@"; do
        [[ $arg == list ]] && listing=1
        if [[ $arg == show ]] && ! _sd_rec_cloud show "$@"; then
            echo "stackdag: record mode: nothing exists yet in the cloud" >&2
            return 1
        fi
        [[ $arg == show ]] && id=$_SD_ID
        case $previous in
            -f | --format) format=$arg ;;
            -c | --column) columns+=("$arg") ;;
            --prefix) prefix=$arg ;;
        esac
        case $arg in
            --format=*) format=${arg#*=} ;;
            --column=*) columns+=("${arg#*=}") ;;
            --prefix=*) prefix=${arg#*=} ;;
        esac
        previous=$arg
    done
    if [[ -n $listing ]]; then
        _sd_rec_cloud list "$@"
        return 0
    fi
    if [[ -z $id ]]; then
        sum=$(printf '%s' "$*" | cksum)
        printf -v id 'fake%08x%08x' "${sum%% *}" "${#*}"
        _SD_ID=$id _sd_rec_cloud made "$@"
    fi
    ((${#columns[@]})) || columns=(id)
    # each column the id, but a size or a count: 0 (tempest's image_size_in_gib reads the
    # size of the image as a number)
    local -A value=()
    local column name sep=""
    for column in "${columns[@]}"; do
        [[ ${column,,} == @(size|*_size|min_disk|min_ram|ram|disk|vcpus|*_count) ]] \
            && value[$column]=0 || value[$column]=$id
    done
    case $format in
        value) for column in "${columns[@]}"; do echo "${value[$column]}"; done ;;
        shell)
            # as the CLI's shell formatter: names lowercased, other characters as _
            for column in "${columns[@]}"; do
                name=${column,,}
                echo "$prefix${name//[^a-z0-9_]/_}=\"${value[$column]}\""
            done
            ;;
        json)
            printf '{'
            for column in "${columns[@]}"; do
                printf '%s"%s": "%s"' "$sep" "$column" "${value[$column]}"
                sep=", "
            done
            printf '}\n'
            ;;
        yaml) for column in "${columns[@]}"; do echo "$column: ${value[$column]}"; done ;;
        *)
            echo "| Field | Value |"
            for column in "${columns[@]}"; do echo "| $column | ${value[$column]} |"; done
            ;;
    esac
}

# _sd_rec_cloud made|show|list ARGS...: openstack's ARGS name a resource (its type: the words
# before the verb, after the global options) and its names (the words after the verb that
# are no options). made: a create or set gave it the id _SD_ID, remembered in the state
# directory (for later steps). show: true when one of the names (or ids) was made, with
# _SD_ID.
# list: _sd_rec_listed.
function _sd_rec_cloud {
    local how=$1 arg type="" verb="" skip="" file=${STACKDAG_RECORDED_CLONES%/*}/cloud t n i
    shift
    local -a names=()
    for arg in "$@"; do
        if [[ -n $skip ]]; then
            skip=""
        elif [[ -z $type && $arg == --os-* && $arg != *=* ]]; then
            skip=1
        elif [[ -z $verb && $arg == @(create|set|show|add|upload|list) ]]; then
            verb=$arg
        elif [[ -z $verb && $arg != -* ]]; then
            type+="$arg "
        elif [[ -n $verb && $arg != -* ]]; then
            names+=("$arg")
        fi
    done
    if [[ $how == list ]]; then
        _sd_rec_listed "${type% }" "$file" "$@"
        return 0
    elif [[ $how == made ]]; then
        [[ $verb == @(create|set|upload) && -n $type ]] || return 0
        mkdir -p -- "${file%/*}" 2>/dev/null
        for arg in "${names[@]}"; do
            printf '%s\t%s\t%s\n' "$type" "$arg" "$_SD_ID"
        done >> "$file" 2>/dev/null
        return 0
    fi
    if [[ -r $file ]]; then
        while IFS=$'\t' read -r t n i; do
            for arg in "${names[@]}"; do
                [[ $t == "$type" && ( $n == "$arg" || $i == "$arg" ) ]] \
                    && { _SD_ID=$i; return 0; }
            done
        done < "$file"
    fi
    _sd_rec_bootstrapped "${type% }" "${names[@]}"
}

# _sd_rec_bootstrapped TYPE NAME...: true when a recorded `keystone-manage bootstrap` (its
# stand-in's record, in any step's) would have made one of the names, with _SD_ID:
# create_keystone_accounts shows the admin project, user and role it made, and the
# default domain and the reader, member and manager roles keystone makes with them.
function _sd_rec_bootstrapped {
    local type=$1 kind where command word previous="" name
    shift
    local -A made=([domain default]=1 [domain Default]=1 [role reader]=1 [role member]=1
                   [role manager]=1)
    local -A option=([--bootstrap-username]=user [--bootstrap-project-name]=project
                     [--bootstrap-role-name]=role [--bootstrap-service-name]=service
                     [--bootstrap-region-id]=region)
    local -a records=("${STACKDAG_RECORDED_CLONES%/*}"/*.tsv) words=()
    [[ -e ${records[0]} ]] || return 1
    while IFS=$'\t' read -r kind where command; do
        [[ $kind == stand-in && ${where##*/} == keystone-manage \
            && " $command " == *" bootstrap "* ]] || continue
        read -ra words <<< "$command"
        for word in "${words[@]}"; do
            [[ -z ${option[${previous:-none}]:-} ]] || made["${option[$previous]} $word"]=1
            previous=$word
        done
        for name in "$@"; do
            [[ -n ${made["$type $name"]:-} ]] || continue
            printf -v _SD_ID 'fake%08x' "$(printf '%s' "$type $name" | cksum | cut -d' ' -f1)"
            return 0
        done
    done < <(cat -- "${records[@]}" 2>/dev/null)
    return 1
}

# _sd_rec_listed TYPE FILE ARGS... (openstack's ARGS; its locals format and columns):
# `openstack TYPE list` answers with the resources of TYPE this run made, by id and first
# name (tempest finds the image `openstack image create` made: `image list --long |
# awk`). A list that filters (an option but for output, --long and --property; a word)
# answers nothing, as a new cloud would.
function _sd_rec_listed {
    local type=$1 file=$2 t n i arg column row sep after="" value=""
    local valued='@(-f|--format|-c|--column|--property|--quote|--max-width|--sort-column)'
    local alone='@(--long|--noindent|--fit-width|--sort-ascending|--sort-descending'
    alone+='|--print-empty|--format=*|--column=*)'
    shift 2
    for arg in "$@"; do
        if [[ -n $value ]]; then
            value=""
        elif [[ $arg == list ]]; then
            after=1
        elif [[ -n $after && $arg == $valued ]]; then
            value=1
        elif [[ -n $after && $arg != $alone ]]; then
            return 0
        fi
    done
    [[ -r $file ]] || return 0
    local -A seen=()
    local -a ids=() found=()
    while IFS=$'\t' read -r t n i; do
        [[ $t == "$type " && -z ${seen[$i]:-} ]] || continue
        seen[$i]=1
        ids+=("$i") found+=("$n")
    done < "$file"
    ((${#columns[@]})) || columns=(ID Name)
    if [[ $format == table ]]; then
        row="|"
        for column in "${columns[@]}"; do row+=" $column |"; done
        echo "$row"
    fi
    for ((i = 0; i < ${#ids[@]}; i++)); do
        row="" sep=""
        for column in "${columns[@]}"; do
            case ${column,,} in
                id) arg=${ids[i]} ;;
                name) arg=${found[i]} ;;
                *) arg="" ;;
            esac
            if [[ $format == table ]]; then
                row+="| $arg "
            else
                row+="$sep$arg" sep=" "
            fi
        done
        [[ $format != table ]] || row+="|"
        echo "$row"
    done
}

_SD_RUNTIME_FUNCS+=(
    [openstack]=1 [_sd_rec_cloud]=1 [_sd_rec_bootstrapped]=1 [_sd_rec_listed]=1
)
