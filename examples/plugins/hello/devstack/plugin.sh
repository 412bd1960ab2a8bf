# hello: writes its configuration with the runtime's iniset and leaves a value and a
# function behind for the plugins that run after it.

function hello_message {
    echo "$DEMO_GREETING (greeting #$HELLO_COUNT)"
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
    fi
fi
