# greeter: uses what hello left in the shell (a variable, an export and a function) and
# the configuration file hello wrote.

if is_service_enabled greeter; then
    if [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Greeting"
        greeting=$(iniget "$HELLO_CONF" DEFAULT greeting)
        {
            echo "greeting from hello.conf: $greeting"
            echo "hello_message: $(hello_message)"
            echo "hello was installed at: $HELLO_INSTALLED_AT"
        } > "$DEST/greeter.txt"
        cat "$DEST/greeter.txt"
    fi
fi
