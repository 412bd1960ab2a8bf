# greeter: uses what hello left in the shell (a variable, an export and functions), the
# configuration file hello wrote, and the service hello started.

if is_service_enabled greeter; then
    if [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Greeting"
        greeting=$(iniget "$HELLO_CONF" DEFAULT greeting)
        {
            echo "greeting from hello.conf: $greeting"
            echo "hello_message: $(hello_message)"
            echo "hello was installed at: $HELLO_INSTALLED_AT"
            echo "hello-api answers: $(hello_get)"
        } > "$DEST/greeter.txt"
        cat "$DEST/greeter.txt"
        [[ $(hello_get) == "$greeting" ]] || die $LINENO "hello-api gave the wrong greeting"
    fi
fi
