#!/usr/bin/env python3
"""Exit 0 when the broker answers a metadata request (not merely an open port)."""

import socket
import struct
import sys

host, port = sys.argv[1].rsplit(":", 1)
# ApiVersions v0 request: size, api_key=18, api_version=0, correlation_id=1, client_id
client = b"sikerja-ready"
body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
try:
    with socket.create_connection((host, int(port)), timeout=2) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", s.recv(4))[0]
        data = b""
        while len(data) < size:
            chunk = s.recv(size - len(data))
            if not chunk:
                break
            data += chunk
        corr, err = struct.unpack(">ih", data[:6])
        sys.exit(0 if corr == 1 and err in (0, 35) else 1)
except OSError:
    sys.exit(1)
