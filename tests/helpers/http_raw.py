#!/usr/bin/env python3
"""Sends raw HTTP requests to a server on a Unix socket and checks each answer's status and
error message: a request-level corpus for routing, methods, bodies and query parsing, with
requests curl would not send (bad request lines, NUL bytes, duplicate parameters).

  http_raw.py SOCKET CORPUS

CORPUS holds one case a line, fields separated by tabs (blank lines and # comments skipped):

  NAME  STATUS  MESSAGE  REQUEST

STATUS "none" means the server closes the connection without an answer. MESSAGE is the exact "error.message" of the JSON answer, "-" when not checked (answers that
libmicrohttpd makes itself, which are not JSON), "=ok" for a 2xx answer whose body must be
JSON, or "html:TEXT" for an HTML page (paths outside /api/) that holds TEXT once unescaped. Each request should say "Connection: close", so that the answer ends with the
connection. REQUEST is the raw request with Python escapes (\\r\\n, \\x00, \\xff); "{N*TEXT}" stands
for TEXT repeated N times (innermost first). Prints one line a case, "ok NAME" or "not ok NAME: why", and exits
1 when any case failed.
"""
import html
import json
import re
import socket
import sys

REPEAT = re.compile(r"\{(\d+)\*([^{}]*)\}")


def raw(spec):
    while REPEAT.search(spec):  # the innermost first
        spec = REPEAT.sub(lambda m: m.group(2) * int(m.group(1)), spec)
    return spec.encode("latin-1").decode("unicode_escape").encode("latin-1")


def exchange(path, data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # it answered and closed before reading all of it
    chunks = []
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        chunks.append(b)
    s.close()
    return b"".join(chunks)


def body_of(resp):
    head, _, body = resp.partition(b"\r\n\r\n")
    if re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
        out, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if not n:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return head, body


def main():
    sock, corpus = sys.argv[1], sys.argv[2]
    failed = 0
    for line in open(corpus, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        name, status, message, request = line.split("\t", 3)
        resp = exchange(sock, raw(request))
        head, body = body_of(resp)
        m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        got = m.group(1).decode() if m else "none" if not resp else "(no status line: %r)" % head[:60]
        why = None
        if got != status:
            why = "status %s, not %s (%r)" % (got, status, body[:200])
        elif message.startswith("html:"):
            # a page (outside /api/): the text, unescaped, is in the HTML answer
            page = html.unescape(body.decode("utf-8", "replace"))
            if not head.lower().count(b"content-type: text/html"):
                why = "not an HTML page: %r" % head[:200]
            elif message[5:] not in page:
                why = "%r is not in the page: %r" % (message[5:], body[:300])
        elif message != "-":
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            if message == "=ok":
                if doc is None:
                    why = "the body is not JSON: %r" % body[:200]
            elif not isinstance(doc, dict) or "error" not in doc:
                why = "no JSON error: %r" % body[:200]
            elif doc["error"].get("message") != message:
                why = "message %r, not %r" % (doc["error"].get("message"), message)
        if why:
            failed += 1
            print("not ok %s: %s" % (name, why))
        else:
            print("ok %s" % name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
