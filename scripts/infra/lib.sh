# shellcheck shell=bash
# Shared helpers of the scripts/infra/* service scripts (sourced, not run).
# Each script stays quiet when there is nothing to do and says one line when it acts.

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        return 1
    fi
}

apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1"
}

# install_package BINARY PACKAGE: installs the Debian PACKAGE when BINARY is not on the PATH.
install_package() {
    local binary="$1" package="$2"
    if command -v "$binary" >/dev/null 2>&1 || [ -x "/usr/sbin/$binary" ]; then
        return 0
    fi
    echo "installing $package (apt-get)" >&2
    local log
    log="$(mktemp -t "infra-$package-XXXXXX.log")"
    # apt-get update only when the first attempt fails (stale or empty package lists).
    if ! apt_install "$package" >"$log" 2>&1; then
        if ! { as_root apt-get update -q && apt_install "$package"; } >>"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "could not install $package" >&2
            return 1
        fi
    fi
    rm -f "$log"
}

# port_open PORT: whether something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_for_port NAME PORT SECONDS: polls until the port answers or the deadline passes.
wait_for_port() {
    local name="$1" port="$2" seconds="$3"
    local deadline=$(( $(date +%s) + seconds ))
    until port_open "$port"; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "$name did not answer on 127.0.0.1:$port within ${seconds}s" >&2
            return 1
        fi
        sleep 0.2
    done
}

# start_service NAME: starts a Debian service through its init script (no systemd needed).
start_service() {
    if command -v service >/dev/null 2>&1 && [ -x "/etc/init.d/$1" ]; then
        as_root service "$1" start >/dev/null 2>&1
    else
        return 1
    fi
}
