"""The per-host process the agent extension reports to: ``python -m port_notes.collector
SOCKET RECORD``.

It stands for what a real plugin runs beside the L2 agent (networking-bagpipe's
BGP speaker, say): it listens on unix socket SOCKET and appends every report
(one JSON object per connection: ``{"event": "wired"|"gone", "port_id": ...}``)
to the JSON-lines file RECORD.
"""

import json
import os
import socketserver
import sys


class _Report(socketserver.StreamRequestHandler):
    def handle(self):
        report = json.loads(self.rfile.readline())
        with open(self.server.record, "a") as record:
            record.write(json.dumps(report, sort_keys=True) + "\n")
        self.wfile.write(b"ok\n")


def main():
    socket_path, record = sys.argv[1:3]
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    with socketserver.UnixStreamServer(socket_path, _Report) as server:
        server.record = record
        print(f"collecting on {socket_path} into {record}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
