#!/usr/bin/env python3
"""sensor.py: an exec sensor that answers every request with SIZE random
bytes (default 1024).

    peernet client ... --sensor-type 'exec:python3 peernet_go/examples/exec/sensor.py 1024'

The exec protocol (see package subprocess): each request is a 4-byte
big-endian length and that many bytes (a sensor request has length 0); each
reply is a 4-byte big-endian length and the sample. Exit when stdin ends.
Log to stderr: stdout carries only replies.
"""
import os
import struct
import sys


def read_exact(stream, n):
    """Read exactly n bytes, or return None at end of input."""
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = read_exact(stdin, 4)
        if head is None:
            return 0  # peernet is done
        (n,) = struct.unpack(">I", head)
        if n and read_exact(stdin, n) is None:
            return 0
        sample = os.urandom(size)
        stdout.write(struct.pack(">I", len(sample)) + sample)
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
