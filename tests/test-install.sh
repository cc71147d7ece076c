#!/bin/bash
# Installs into a DESTDIR and checks that every file a desktop needs is there
# and valid. TAP output, one line per check.
set -u
build=$1
src=$2
dest=$(mktemp -d /tmp/smoothtask-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { local what=$1; shift; if "$@" >"$dest/.out" 2>&1; then ok "$what"; else notok "$what"; sed 's/^/# /' "$dest/.out"; fi; }

if ! DESTDIR="$dest" meson install -C "$build" --no-rebuild --quiet >"$dest/.install" 2>&1; then
    echo "1..1"; echo "not ok 1 - meson install"; sed 's/^/# /' "$dest/.install"; exit 1
fi
prefix=$(meson introspect --buildoptions "$build" | /usr/bin/python3 -c \
    'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root="$dest$prefix"
bin="$root/bin/smoothtask"
app="$root/share/applications/org.smoothtask.Agent.desktop"
autostart=$(find "$dest" -path '*/xdg/autostart/org.smoothtask.Agent.desktop' | head -1)
unit=$(find "$dest" -name smoothtask.service | head -1)
schemas="$root/share/glib-2.0/schemas"

check "binary installed and runs" "$bin" --version
check "schema installed" test -f "$schemas/org.smoothtask.Agent.gschema.xml"
check "schema compiles with --strict" glib-compile-schemas --strict "$schemas"
check "application entry valid" desktop-file-validate "$app"
check "autostart entry installed" test -n "$autostart"
check "autostart entry valid" desktop-file-validate "$autostart"
check "autostart entry hidden from menus" grep -qx 'NoDisplay=true' "$autostart"
check "application entry translated" grep -q '^Comment\[ru\]=' "$app"
check "user unit installed" test -n "$unit"
check "user unit bound to graphical-session.target" grep -qx 'PartOf=graphical-session.target' "$unit"
check "user unit restarts on failure" grep -qx 'Restart=on-failure' "$unit"
if command -v systemd-analyze >/dev/null; then
    # Verify a copy whose ExecStart points into DESTDIR, where the binary is.
    sed "s|^ExecStart=.*|ExecStart=$bin|" "$unit" > "$dest/smoothtask.service"
    check "user unit passes systemd-analyze verify" systemd-analyze verify --man=no "$dest/smoothtask.service"
else
    skip "systemd-analyze verify" "systemd-analyze not installed"
fi
check "man page installed" test -f "$root/share/man/man1/smoothtask.1"
if command -v groff >/dev/null; then
    check "man page renders without warnings" bash -c "! groff -man -z -ww '$root/share/man/man1/smoothtask.1' 2>&1 | grep -q ."
else
    skip "man page renders" "groff not installed"
fi
check "Russian catalogue installed" test -f "$root/share/locale/ru/LC_MESSAGES/smoothtask.mo"
check "ru.po passes msgfmt --check" msgfmt --check -o /dev/null "$src/po/ru.po"
echo "1..$n"
exit $((fails > 0))
