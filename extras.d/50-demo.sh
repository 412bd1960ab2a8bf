# extras.d/50-demo.sh: an in-tree hook in the seed's dispatcher style; the work is in lib/demo.

if is_service_enabled demo; then
    if [[ "$1" == "source" ]]; then
        source "$TOP_DIR/lib/demo"
    elif [[ "$1" == "stack" && "$2" == "pre-install" ]]; then
        echo_summary "Preparing the demo"
        prepare_demo
    elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
        echo_summary "Checking the demo"
        check_demo
    fi
    if [[ "$1" == "unstack" ]]; then
        :
    fi
    if [[ "$1" == "clean" ]]; then
        rm -f "$DEST/demo-report.txt"
    fi
fi
