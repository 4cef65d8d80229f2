#!/usr/bin/env python3
"""Python side of the codec benchmark (`cargo bench --bench codec`).

Reads `<dir>/manifest.json`, written by benches/codec.rs next to the XML documents, times
Python's xmlrpc.client on the same bytes and prints one JSON object:
{"python": version, "peak_rss_kib": n, "results": {name: {"median_s", "min_s", "iters", "items"}}}.

Operations:
  loads           xmlrpc.client.loads(bytes) of a response document
  dumps_call      xmlrpc.client.dumps(params, methodname) of a call document's parameters
  handle          what a Python XML-RPC server does per request: loads(call) + dumps((True,),
                  methodresponse=True)
  dumps_response  xmlrpc.client.dumps((value,), methodresponse=True) of a response's value
"""

import json
import os
import statistics
import sys
import time
import xmlrpc.client


def timed(iters, fn):
    fn()
    samples = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def items_of(value):
    return len(value) if isinstance(value, list) else 1


def peak_rss_kib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    directory = sys.argv[1]
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    results = {}
    for op in manifest["ops"]:
        with open(os.path.join(directory, op["file"]), "rb") as f:
            data = f.read()
        iters = int(op["iters"])
        kind = op["op"]
        params, method = xmlrpc.client.loads(data)
        if kind == "loads":
            items = items_of(params[0])
            samples = timed(iters, lambda: xmlrpc.client.loads(data))
        elif kind == "dumps_call":
            items = 1
            samples = timed(iters, lambda: xmlrpc.client.dumps(params, method, allow_none=True))
        elif kind == "handle":
            items = 1

            def handle():
                p, m = xmlrpc.client.loads(data)
                return xmlrpc.client.dumps((len(p) == 3,), methodresponse=True, allow_none=True)

            samples = timed(iters, handle)
        elif kind == "dumps_response":
            items = items_of(params[0])
            samples = timed(iters, lambda: xmlrpc.client.dumps(params, methodresponse=True, allow_none=True))
        else:
            raise SystemExit(f"unknown operation {kind!r}")
        results[op["name"]] = {
            "median_s": statistics.median(samples),
            "min_s": min(samples),
            "iters": iters,
            "items": items,
        }
    print(json.dumps({"python": sys.version.split()[0], "peak_rss_kib": peak_rss_kib(), "results": results}))


if __name__ == "__main__":
    main()
