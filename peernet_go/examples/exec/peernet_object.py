#!/usr/bin/env python3
"""peernet_object.py: run a PEERNet sensor or model object ("module::object")
behind the exec protocol, so peernet can use it unchanged.

    peernet client ... --sensor-type 'exec:python3 peernet_object.py sensor RandomString::cs'
    peernet server ... --model-name 'exec:python3 peernet_object.py model custom_model::custom_object'

MODULE is imported from the working directory, as PEERNet does, and OBJECT
is taken from it. A sensor object needs sample(); a model object needs
infer(x) and may have preprocess(x) and postprocess(y). A model receives the
request's bytes. Results go back as bytes: bytes-like values as they are,
str as UTF-8, objects with tobytes() (numpy arrays) through it, anything else
as JSON. print() from the object goes to stderr, keeping stdout for replies.
"""
import importlib
import json
import os
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


def to_bytes(x):
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x)
    if isinstance(x, str):
        return x.encode()
    if hasattr(x, "tobytes"):
        return x.tobytes()
    return json.dumps(x, default=repr).encode()


def load(spec):
    module, sep, name = spec.rpartition("::")
    if not sep or not module or not name:
        raise SystemExit(f"peernet_object.py: {spec!r}: want module::object")
    sys.path.insert(0, os.getcwd())
    return getattr(importlib.import_module(module), name)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("sensor", "model"):
        raise SystemExit("usage: peernet_object.py sensor|model module::object")
    role, obj = sys.argv[1], load(sys.argv[2])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    while True:
        head = read_exact(stdin, 4)
        if head is None:
            return 0
        (n,) = struct.unpack(">I", head)
        req = read_exact(stdin, n)
        if req is None:
            return 0
        if role == "sensor":
            reply = obj.sample()
        else:
            x = obj.preprocess(req) if hasattr(obj, "preprocess") else req
            reply = obj.infer(x)
            if hasattr(obj, "postprocess"):
                reply = obj.postprocess(reply)
        reply = to_bytes(reply)
        stdout.write(struct.pack(">I", len(reply)) + reply)
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
