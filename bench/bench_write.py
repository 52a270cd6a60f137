"""Rating submissions per second under gunicorn, against /healthz of the
same server in the same run.

    .venv/bin/python bench/bench_write.py [--seconds 10] [--rounds 3] [--db sqlite|postgresql]

Starts gunicorn with the project's gunicorn.conf.py (limits off, durable
commits as configured) on a fresh database with demo organizations, then
alternates wrk runs: GET /healthz and POST /api/v1/ratings with a unique
client token per request. Prints each round and the median of the ratio.
Needs wrk (apt-get install wrk).
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

LUA = """
local counter = 0
local prefix
local objects = {%s}
setup = function(thread)
  thread:set("tid", tostring(math.random(0, 0xfffffff)))
end
init = function(args)
  prefix = string.format("%%08x", tonumber(tid))
end
request = function()
  counter = counter + 1
  local object = objects[(counter %% #objects) + 1]
  local token = string.format("%%s-0000-4000-8000-%%012x", prefix, counter)
  local body = '{"object": ' .. object .. ', "channel": "api", "client_token": "' .. token ..
    '", "scores": {"simplicity": 5, "information": 4, "timeliness": 5, "politeness": 4}}'
  return wrk.format("POST", "/api/v1/ratings", {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\\n")
  end
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url, seconds, connections, script=None):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out.stdout).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    return rps, p50, int(errors.group(1)) if errors else 0


def postgres_admin(server, *statements):
    import psycopg2
    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432",
                        help="a server; the benchmark makes its own database there and drops it after")
    parser.add_argument("--workers", default=None)
    parser.add_argument("--threads", default=None)
    parser.add_argument("--worker-class", default=None, help="override gunicorn's worker class (e.g. sync)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="ocenka-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}" if args.db == "sqlite" else f"{args.postgres}/ocenka_bench_write"
    env = dict(os.environ, OCENKA_DATABASE_URL=url, OCENKA_SECRET_KEY="bench", OCENKA_RATE_LIMITS="off")
    if args.db == "postgresql":
        postgres_admin(args.postgres, "DROP DATABASE IF EXISTS ocenka_bench_write", "CREATE DATABASE ocenka_bench_write")
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "demo", "--orgs", "300", "--ratings", "1000"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    env["OCENKA_BIND"] = f"127.0.0.1:{port}"
    if args.workers:
        env["OCENKA_WORKERS"] = args.workers
    if args.threads:
        env["OCENKA_THREADS"] = args.threads
    command = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--access-logfile", "/dev/null"]
    if args.worker_class:
        command += ["--worker-class", args.worker_class]
    server = subprocess.Popen(command + ["wsgi:app"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        script = workdir / "rate.lua"
        script.write_text(LUA % ", ".join(str(i) for i in range(20, 300)))
        print(f"gunicorn: {os.environ.get('OCENKA_WORKERS', args.workers or '2')} workers, "
              f"{args.threads or '8'} threads, {args.worker_class or 'gthread'}; {args.db}; "
              f"wrk: 2 threads, {args.connections} connections, {args.seconds} s per run")
        ratios = []
        for round_ in range(1, args.rounds + 1):
            health, health_p50, _ = wrk(base + "/healthz", args.seconds, args.connections)
            rate, rate_p50, errors = wrk(base + "/", args.seconds, args.connections, str(script))
            ratios.append(rate / health)
            print(f"round {round_}: /healthz {health:8.0f} req/s (p50 {health_p50}), "
                  f"POST /api/v1/ratings {rate:7.0f} req/s (p50 {rate_p50}, non-201: {errors}), ratio {rate / health:.3f}")
        print(f"median ratio of ratings to /healthz: {statistics.median(ratios):.3f} (1/{1 / statistics.median(ratios):.1f})")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)
        if args.db == "postgresql":
            postgres_admin(args.postgres, "DROP DATABASE IF EXISTS ocenka_bench_write")


if __name__ == "__main__":
    main()
