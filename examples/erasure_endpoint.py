#!/usr/bin/env python3
"""A stand-in for a downstream service's erasure endpoint, for examples/request-demo.sh.

usage: erasure_endpoint.py PORTFILE LOGFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE), logs every POST body as one JSON
line to LOGFILE and answers 200, except that /flaky answers 503 to its first call, to show
steward retrying. The service holds every subject until it is told to erase them:
/features/verify answers {"remaining": 1} for a subject (category and pseudonym) that
/features/erase was not told about yet, and {"remaining": 0} after.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

calls = {}
erased = set()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        calls[self.path] = calls.get(self.path, 0) + 1
        with open(sys.argv[2], "a", encoding="utf-8") as log:
            log.write(json.dumps({"path": self.path, "body": json.loads(body or b"{}")}) + "\n")
        doc = json.loads(body or b"{}")
        who = (doc.get("category"), doc.get("pseudonym"))
        status = 503 if self.path == "/flaky" and calls[self.path] == 1 else 200
        if self.path == "/features/erase":
            erased.add(who)
        if self.path == "/features/verify":
            answer = {"remaining": 0 if who in erased else 1}
        else:
            answer = {"erased": True} if status == 200 else {"retry": True}
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
# Written, then renamed, so the port file appears complete and only once the port is bound.
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
