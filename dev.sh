#!/usr/bin/env bash
# dev.sh: the two commands of the README.
#   ./dev.sh run    install what is missing, build, run the agent in the foreground
#   ./dev.sh test   install what is missing, build, run the whole test suite
#   ./dev.sh bench  install what is missing, build, run the benchmarks
# Safe to run again: it installs only what is missing and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DEPS=(meson ninja-build pkg-config gcc clang llvm bpftool libbpf-dev libelf-dev
            zlib1g-dev libglib2.0-dev libglib2.0-bin libnotify-dev gettext
            desktop-file-utils libcap2-bin)
TEST_DEPS=(dbus python3-dbusmock python3-gi clang-format libclang-rt-14-dev libbpf-tools util-linux
           systemd locales procps
           # the shell suite: a real GNOME Shell and dunst as notification servers
           gnome-shell gjs xwayland fonts-cantarell libnotify-bin dunst xvfb)

log() { printf 'dev.sh: %s\n' "$*" >&2; }

missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || echo "$p"
    done
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            log "missing packages: ${missing[*]}"
            log "run as root, or install them: apt-get install ${missing[*]}"
            exit 1
        fi
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        "${sudo[@]}" apt-get update -qq >/dev/null
        "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

ensure_ru_locale() {
    # Translations are tested with LANGUAGE=ru, which needs some ru locale.
    locale -a 2>/dev/null | grep -qi '^ru_RU' && return 0
    [ "$(id -u)" -eq 0 ] || return 0
    if [ -f /etc/locale.gen ]; then
        sed -i 's/^# *\(ru_RU.UTF-8 UTF-8\)/\1/' /etc/locale.gen
        grep -q '^ru_RU.UTF-8 UTF-8' /etc/locale.gen || echo 'ru_RU.UTF-8 UTF-8' >> /etc/locale.gen
        locale-gen >/dev/null 2>&1 || log "locale-gen failed: Russian tests will skip"
    fi
}

build() {
    if [ ! -f build/build.ninja ]; then
        meson setup build --buildtype=debugoptimized >/dev/null
    fi
    meson compile -C build >/dev/null || meson compile -C build
}

cmd=${1:-}
case "$cmd" in
    run)
        install_packages "${BUILD_DEPS[@]}"
        build
        shift
        export GSETTINGS_SCHEMA_DIR="$PWD/build/data"
        export SMOOTHTASK_LOCALEDIR="$PWD/build/po"
        exec ./build/src/smoothtask --verbose "$@"
        ;;
    test)
        install_packages "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"
        ensure_ru_locale
        build
        shift
        status=0
        meson test -C build --print-errorlogs "$@" || status=$?
        # The pure core and the collector again under ASan and UBSan, in a
        # second build dir (skip with SMOOTHTASK_NO_SANITIZE=1).
        if [ $# -eq 0 ] && [ -z "${SMOOTHTASK_NO_SANITIZE:-}" ]; then
            if [ ! -f build-asan/build.ninja ]; then
                meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
                    -Db_lundef=false >/dev/null
            fi
            meson compile -C build-asan >/dev/null || meson compile -C build-asan
            # The collector as root and as nobody: the per-task syscall
            # scheme (collector-direct) is the same code under ASan.
            export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
            meson test -C build-asan --print-errorlogs --suite unit || status=$?
            meson test -C build-asan --print-errorlogs collector collector-unprivileged rss-flavour \
                || status=$?
        fi
        # The benchmarks, tiny, so that they cannot rot (figures only).
        if [ $# -eq 0 ]; then
            meson test -C build --benchmark --logbase benchmarklog --print-errorlogs || status=$?
        fi
        exit $status
        ;;
    bench)
        install_packages "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}" psi-notify nohang
        build
        shift
        exec /usr/bin/python3 tests/bench.py --build build "$@"
        ;;
    *)
        echo "usage: ./dev.sh run|test|bench [args]" >&2
        exit 2
        ;;
esac
