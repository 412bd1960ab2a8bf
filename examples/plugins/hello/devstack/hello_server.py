"""hello-api: a tiny HTTP service the demo starts with run_process.

Serves the greeting from hello.conf on 127.0.0.1, on a port the kernel picks; the port is
written to PORT_FILE so the hooks can find it.
"""

import configparser
import http.server
import sys
from pathlib import Path

conf, port_file = Path(sys.argv[1]), Path(sys.argv[2])


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parser = configparser.ConfigParser()
        parser.read(conf)
        body = f"{parser.get('DEFAULT', 'greeting', fallback='?')}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
port_file.write_text(f"{server.server_port}\n")
print(f"hello-api listening on 127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()
