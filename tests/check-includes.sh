#!/usr/bin/env bash
# Fails when a room of src/ sees a header it may not know (docs/architecture.md,
# "Who may know whom"). A wall stated only in a document gets crossed through a
# transitive include, so this follows every #include "st-*.h" through src/ and
# checks everything a file sees, not just what it names.
#   tests/check-includes.sh [SOURCE_ROOT]
# A room is a file name without "st-" and its extension: st-format.c and
# st-format.h are the room "format"; main.c is "main". A room may always see
# its own header. A header that is not in src/ (st-dbus-generated.h, made by
# the build) is checked by name and not followed. Last, the table below and
# the one in docs/architecture.md must agree.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root/src" || exit 1

# One line per room: room, then every room whose header it may see, directly
# or through another header. "*" is everything. Keep it equal to the table in
# docs/architecture.md; a new room must be added to both.
table='
snapshot:
procfs-parse:
names:
cgroup:
privileges:
raw-sample:
backend:            raw-sample
backend-proc:       backend raw-sample procfs-parse
backend-bpf:        backend raw-sample privileges task-records bpf-set
bpf-set:            backend raw-sample privileges
loader:             bpf-set backend raw-sample privileges instance
instance:
task-records:       raw-sample
accounting:         raw-sample snapshot
collector:          backend raw-sample snapshot accounting procfs-parse names cgroup system
system:             backend raw-sample snapshot procfs-parse
engine-config:      names
engine:             engine-private engine-config snapshot names figures
engine-private:     engine engine-config snapshot
engine-decision:    engine-private engine engine-config snapshot names figures
engine-history:     engine-private engine engine-config snapshot
figures:            engine-config snapshot
arming:             snapshot
notification-text:
format:             engine engine-config snapshot notification-text names
incident:           engine engine-config snapshot format notification-text
notifier:           notification-text notifier-thread
notifier-thread:    notifier notification-text
hooks:              engine engine-config snapshot format notification-text dbus-generated names
settings:           engine-config arming snapshot names
dump:               snapshot names
support:            backend raw-sample privileges
psi:
session:
oom:                snapshot
hook-switch:        collector backend raw-sample arming snapshot
presenter:          incident notifier settings engine engine-config snapshot format notification-text names notifier-thread arming
gap:
app:                *
commands:           collector backend raw-sample snapshot dump format engine engine-config notification-text notifier privileges names
main:               *
'

declare -A allowed
while IFS= read -r line; do
    [ -n "$line" ] || continue
    room=${line%%:*}
    read -r -a may <<<"${line#*:}"
    allowed[$room]=" ${may[*]} "
done <<<"$table"

room_of() {
    local f=${1##*/}
    f=${f%.[ch]}
    echo "${f#st-}"
}

# Direct project includes of a file, as "line header" pairs.
includes_of() {
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"st-[^"]*\.h"' "$1" |
        sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/'
}

declare -A direct # header -> its own project includes, space-separated
for h in st-*.h; do
    [ -e "$h" ] || continue
    direct[$h]=$(includes_of "$h" | awk '{ printf "%s ", $2 }')
done

crossings=0
for f in *.c *.h; do
    [ -e "$f" ] || continue
    room=$(room_of "$f")
    if [ -z "${allowed[$room]+x}" ]; then
        echo "src/$f: the room \"$room\" is not in the table of tests/check-includes.sh;" \
            "add it there and to docs/architecture.md"
        crossings=$((crossings + 1))
        continue
    fi
    [ "${allowed[$room]}" = " * " ] && continue
    while read -r lineno header; do
        # A room's own header is checked as a file of its own.
        [ "$(room_of "$header")" = "$room" ] && continue
        # Everything this include brings in, each with the way it came.
        declare -A via=([$header]=$header)
        queue=("$header")
        while [ ${#queue[@]} -gt 0 ]; do
            h=${queue[0]}
            queue=("${queue[@]:1}")
            for next in ${direct[$h]:-}; do
                [ -n "${via[$next]+x}" ] && continue
                via[$next]="${via[$h]} -> $next"
                queue+=("$next")
            done
        done
        walls=()
        for seen in $(printf '%s\n' "${!via[@]}" | sort); do
            other=$(room_of "$seen")
            [ "$other" = "$room" ] && continue
            case "${allowed[$room]}" in *" $other "*) continue ;; esac
            walls+=("$room -/-> $other (${via[$seen]})")
        done
        unset via
        [ ${#walls[@]} -gt 0 ] || continue
        echo "src/$f:$lineno: #include \"$header\" crosses a wall:"
        printf '    %s\n' "${walls[@]}"
        crossings=$((crossings + ${#walls[@]}))
    done < <(includes_of "$f")
done

# The table of docs/architecture.md must say the same, room for room: it is
# what newcomers read. Its second column, without the words in brackets.
sorted_list() {
    local l
    l=$(printf '%s\n' "$@" | sort | paste -sd, - | sed 's/^,//; s/,/, /g')
    echo "${l:-nothing}"
}
doc=../docs/architecture.md
disagree=0
if [ -f "$doc" ]; then
    declare -A documented
    while IFS='|' read -r _ rooms sees _; do
        sees=$(echo "$sees" | sed 's/([^)]*)//g; s/nothing of the project//; s/everything/*/; s/,/ /g')
        read -r -a may <<<"$sees"
        for r in $(echo "$rooms" | grep -o '`[^`]*`' | tr -d '`' | grep -v '\.h$'); do
            documented[$r]=$(sorted_list "${may[@]}")
        done
    done < <(sed -n '/^## Who may know whom/,/^## [^W]/p' "$doc" | grep '^| `')
    for room in $(printf '%s\n' "${!allowed[@]}" "${!documented[@]}" | sort -u); do
        want="no line" got="no line"
        if [ -n "${allowed[$room]+x}" ]; then
            read -r -a may <<<"${allowed[$room]}"
            want=$(sorted_list "${may[@]}")
        fi
        [ -n "${documented[$room]+x}" ] && got=${documented[$room]}
        if [ "$want" != "$got" ]; then
            echo "docs/architecture.md says \"$room\" may see [${got}]; this script says [${want}]"
            disagree=$((disagree + 1))
        fi
    done
fi

[ $crossings -gt 0 ] &&
    echo "$crossings wall(s) crossed; the rooms and who may know whom: docs/architecture.md"
[ $disagree -gt 0 ] &&
    echo "$disagree room(s) differ between docs/architecture.md and tests/check-includes.sh"
[ $crossings -eq 0 ] && [ $disagree -eq 0 ]
