"""Memory of each gunicorn worker after a mixed load, on a database that
demo has filled (at ten times the real portal for issue 12).

    .venv/bin/python bench/bench_memory.py --url postgresql://postgres@127.0.0.1:5432/scale10 [--requests 3000]

Starts gunicorn with the project's gunicorn.conf.py (2 gthread workers × 8
threads) on a free port, sends a bounded mixed load from 8 client threads
to 127.0.0.1 only: rankings of every period kind and of spheres and regions
(JSON and pages), objects' figures and pages, catalogue searches, the home
page and ratings (so rankings are updated after them), then prints each
worker's resident set size (VmRSS and VmHWM, its peak) and stops the server.
"""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the database URL (demo data already in it)")
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    port = free_port()
    env = dict(os.environ, OCENKA_DATABASE_URL=args.url, OCENKA_BIND=f"127.0.0.1:{port}", OCENKA_RATE_LIMITS="0",
               OCENKA_SECRET_KEY="bench-memory")
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "init-db"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--access-logfile",
                               "/dev/null", "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # a loaded machine answers late
                time.sleep(0.5)
        else:
            raise SystemExit("the server did not become healthy: " + server.stderr.read1(4000).decode())
        workers = [int(p) for p in subprocess.check_output(["pgrep", "-P", str(server.pid)]).split()]
        print(f"workers {workers}; at start: " + ", ".join(f"{status(p, 'VmRSS')} MB" for p in workers))
        objects = json.load(urllib.request.urlopen(base + "/api/v1/objects?per_page=100&page=7", timeout=60))["items"]
        ids = [o["id"] for o in objects]
        rng = random.Random(1)
        year = time.strftime("%Y")
        periods = ["all", year, f"{int(year) - 1}", f"{year}-H1", f"{year}-Q1", f"{year}-Q2",
                   time.strftime("%Y-%m"), f"{year}-01", f"{year}-02", f"{int(year) - 1}-12"]
        groups = ["", "&sphere=health", "&sphere=education", "&region=minsk-city", "&region=brest"]
        kinds = [
            (6, lambda: f"/api/v1/rankings?period={rng.choice(periods)}{rng.choice(groups)}&limit=100"),
            (2, lambda: f"/rankings?period={rng.choice(periods)}{rng.choice(groups)}"),
            (6, lambda: f"/api/v1/objects/{rng.choice(ids)}?period={rng.choice(periods)}"),
            (2, lambda: f"/objects/{rng.choice(ids)}"),
            (2, lambda: "/api/v1/objects?q=" + urllib.parse.quote(rng.choice(["школа", "поликлиника", "ЗАГС", "Брест",
                                                                              "№ 12"]))),
            (1, lambda: "/"),
            (3, None),  # a rating
        ]
        weights = [w for w, _ in kinds]
        plan = [rng.choices(kinds, weights)[0][1] for _ in range(args.requests)]

        def one(make):
            if make is None:
                body = json.dumps({"object": rng.choice(ids), "channel": "api", "client_token": str(uuid.uuid4()),
                                   "scores": {"simplicity": 5, "information": 4, "timeliness": 5,
                                              "politeness": 4}}).encode()
                request = urllib.request.Request(base + "/api/v1/ratings", data=body,
                                                 headers={"Content-Type": "application/json"})
            else:
                request = base + make()
            try:
                with urllib.request.urlopen(request, timeout=120) as answer:
                    answer.read()
                    return answer.status
            except urllib.error.HTTPError as error:
                return error.code

        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(one, plan))
        elapsed = time.perf_counter() - started
        counts = {code: codes.count(code) for code in sorted(set(codes))}
        print(f"{len(plan)} requests in {elapsed:.0f} s, answers {counts}")
        for pid in workers:
            print(f"worker {pid}: VmRSS {status(pid, 'VmRSS')} MB, peak (VmHWM) {status(pid, 'VmHWM')} MB")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
