"""Memory and load time of one worker against the size of its run-time origin set.

    python -m benchmarks.origin_memory [--sizes 10,1000,100000,1000000] [--requests 12000]

For each size and each mode of :class:`~flask_crossorigin.CachedOrigins`, a fresh
Python process builds an app whose policy trusts ``size`` exact origins, serves
2,000 distinct members and 10,000 distinct non-members (the issue 25 traffic),
and reports its RSS and peak RSS (``/proc/self/status``), the time of its first
load and of one reload:

* ``whole-list``: ``CachedOrigins(load)``, ``load`` returning every origin;
* ``per-origin``: ``CachedOrigins(lookup=)``, ``lookup`` answering from the
  origin's number (a store outside the process, with no memory here and no I/O,
  so that the figures are the worker's own).

A bare app (no extension, same traffic) is the baseline. Prints a table.

With ``--redis URL`` (a redis-server you started; the benchmark writes the key
``bench:origins`` there), it also times a request whose origin is looked up in
Redis (a miss: one ``SISMEMBER``) against one answered from the cache, through
``RedisOrigins`` and Flask's test client.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r'''
import json, re, sys, time
from flask import Flask
mode, size, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def status():
    found = {}
    for line in open("/proc/self/status"):
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found

app = Flask(__name__)

@app.route("/data")
def data():
    return "ok"

load_s = reload_s = None
if mode != "bare":
    from flask_crossorigin import CORS, CachedOrigins
    if mode == "whole-list":
        source = CachedOrigins(lambda: [f"https://t{i}.tenants.example" for i in range(size)],
                               ttl=3600, max_stale=7200, load_timeout=600)
    else:
        number = re.compile(r"https://t([0-9]+)\.tenants\.example")
        def lookup(origin):
            m = number.fullmatch(origin)
            return m is not None and int(m.group(1)) < size
        source = CachedOrigins(lookup=lookup, ttl=3600, max_stale=7200)
    started = time.perf_counter()
    CORS(app, origins=source, supports_credentials=True)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    source.refresh()
    reload_s = time.perf_counter() - started
client = app.test_client()
members = max(1, min(2000, size))
step = max(1, size // members)
granted = 0
for i in range(min(requests, 2000)):
    origin = f"https://t{(i % members) * step}.tenants.example"
    got = client.get("/data", headers={"Origin": origin}).headers.get(
        "Access-Control-Allow-Origin")
    granted += got == origin
for i in range(max(0, requests - 2000)):
    client.get("/data", headers={"Origin": f"https://stranger{i}.example"})
print(json.dumps({**status(), "load_s": load_s, "reload_s": reload_s, "granted": granted}))
'''


def measure(mode: str, size: int, requests: int) -> dict[str, float]:
    output = subprocess.run([sys.executable, "-c", CHILD, mode, str(size), str(requests)],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def miss_and_hit(url: str, count: int = 2000) -> tuple[float, float]:
    """Median µs of a request whose origin is looked up in Redis, and of a cached one."""
    import statistics
    import time

    import redis
    from flask import Flask

    from flask_crossorigin import CORS, RedisOrigins

    client = redis.Redis.from_url(url)
    client.delete("bench:origins", "bench:origins:patterns")
    client.sadd("bench:origins", *[f"https://t{i}.tenants.example" for i in range(count)])
    store = RedisOrigins(url, key="bench:origins", ttl=3600, max_stale=7200)
    app = Flask(__name__)

    @app.route("/data")
    def data() -> str:
        return "ok"

    CORS(app, origins=store)
    test = app.test_client()
    misses, hits = [], []
    for i in range(count):
        origin = f"https://t{i}.tenants.example"
        for times in (misses, hits):
            started = time.perf_counter()
            test.get("/data", headers={"Origin": origin})
            times.append(time.perf_counter() - started)
    store.close()
    client.delete("bench:origins")
    return statistics.median(misses) * 1e6, statistics.median(hits) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.origin_memory",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,100000,1000000")
    parser.add_argument("--requests", type=int, default=12_000)
    parser.add_argument("--modes", default="whole-list,per-origin")
    parser.add_argument("--redis", metavar="URL", help="also time a Redis lookup (a miss)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    bare = measure("bare", 0, args.requests)
    print(f"# one worker, {args.requests:,} requests (2,000 members, the rest unknown); "
          f"bare app: RSS {bare['VmRSS']:.1f} MB")
    print(f"{'mode':<11} {'origins':>10} {'RSS MB':>8} {'+bare':>7} {'peak MB':>8} "
          f"{'first load s':>12} {'reload s':>9}")
    for mode in args.modes.split(","):
        for size in sizes:
            found = measure(mode, size, args.requests)
            print(f"{mode:<11} {size:>10,} {found['VmRSS']:>8.1f} "
                  f"{found['VmRSS'] - bare['VmRSS']:>+7.1f} {found['VmHWM']:>8.1f} "
                  f"{found['load_s']:>12.3f} {found['reload_s']:>9.3f}")
    if args.redis:
        miss, hit = miss_and_hit(args.redis)
        print(f"RedisOrigins, whole request (test client): looked up in Redis (a miss) "
              f"{miss:.0f} µs, answered from the cache {hit:.0f} µs (medians of 2,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
