# hello: writes its configuration with the runtime's iniset, starts a small HTTP service
# with run_process, and leaves a value and a function behind for the plugins after it.

function hello_message {
    echo "$DEMO_GREETING (greeting #$HELLO_COUNT)"
}

# hello_get: the service's answer, with bash's /dev/tcp (no curl needed).
function hello_get {
    local port
    read -r port < "$HELLO_PORT_FILE"
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET / HTTP/1.0\r\n\r\n' >&3
    tail -n 1 <&3
    exec 3<&-
}

if is_service_enabled hello; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing hello into $HELLO_DIR"
        mkdir -p "$HELLO_DIR"
        HELLO_COUNT=1
        export HELLO_INSTALLED_AT=$HELLO_DIR
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring hello"
        iniset "$HELLO_CONF" DEFAULT greeting "$DEMO_GREETING"
        iniset "$HELLO_CONF" DEFAULT virt_driver "$VIRT_DRIVER"
        HELLO_COUNT=$((HELLO_COUNT + 1))
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Starting hello-api"
        rm -f "$HELLO_PORT_FILE"
        run_process hello-api "exec ${PYTHON:-python3} $(printf '%q ' \
            "$dir/devstack/hello_server.py" "$HELLO_CONF" "$HELLO_PORT_FILE")"
        for _ in $(seq 100); do
            [[ -s $HELLO_PORT_FILE ]] && break
            sleep 0.1
        done
        [[ -s $HELLO_PORT_FILE ]] || die $LINENO "hello-api did not start (see its log)"
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_process hello-api
    fi
    if [[ "$1" == "clean" ]]; then
        rm -rf "$HELLO_DIR"
    fi
fi
