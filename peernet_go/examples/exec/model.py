#!/usr/bin/env python3
"""model.py: an exec model. Each request carries a sample; the reply is a
small JSON document describing it, or, with --echo, the sample itself.

    peernet server ... --model-name 'exec:python3 peernet_go/examples/exec/model.py'

The exec protocol (see package subprocess): each request is a 4-byte
big-endian length and that many bytes; each reply is a 4-byte big-endian
length and that many bytes. Exit when stdin ends. Log to stderr: stdout
carries only replies.
"""
import hashlib
import json
import struct
import sys


def read_exact(stream, n):
    """Read exactly n bytes, or return None at end of input."""
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def infer(sample):
    return json.dumps({
        "label": "model.py",
        "bytes": len(sample),
        "sha256": hashlib.sha256(sample).hexdigest()[:16],
    }).encode()


def main():
    echo = "--echo" in sys.argv[1:]
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = read_exact(stdin, 4)
        if head is None:
            return 0  # peernet is done
        (n,) = struct.unpack(">I", head)
        sample = read_exact(stdin, n)
        if sample is None:
            return 0
        reply = sample if echo else infer(sample)
        stdout.write(struct.pack(">I", len(reply)) + reply)
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
