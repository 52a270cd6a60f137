"""Rating submissions per second under gunicorn, against /healthz of the
same server, at the real portal's size, optionally beside other versions of
the code in the same run.

    .venv/bin/python bench/bench_write.py [--orgs 13500 --ratings 445000] [--seconds 8] [--rounds 5]
        [--warmup 3] [--db sqlite|postgresql] [--ref GITREF ...] [--stand-in-writer] [--objects spread|cycle]

For the working tree and each ``--ref`` (a commit, checked out into a
temporary worktree and served by its own code with this venv), makes a demo
database once (kept under /tmp/ocenka-bench/ and copied for every run, so
each version starts from the same rows), starts gunicorn with the project's
gunicorn.conf.py (limits off, durable commits) and in every round runs wrk
against each version in turn: GET /healthz, then POST /api/v1/ratings with a
unique client token per request, each for an object drawn at random from
every published one (``--objects``). A round's ratio is ratings/healthz of one
server, measured within seconds, so the machine's drift cancels; printed are
every round and the median ratio with its spread (lowest and highest), and
for each ref the working tree's ratings per second against the ref's,
round by round (median and spread), which holds even where the two
versions' /healthz differ. Beside each run it prints the CPU time the
server spent per request (gunicorn's processes and, on PostgreSQL, the
database's backends for this version, read from /proc): what a request
costs, which a busy neighbour on the machine slows but does not add to;
and, of that, the writer process's (service/writer.py). With
``--stand-in-writer`` the working tree is served a second time with a
writer that stores nothing (bench/stand_in_writer.py): what a rating costs
the workers alone, the writer's part left out.
Needs wrk (apt-get install wrk).
"""
import argparse
import contextlib
import hashlib
import os
import re
import secrets
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
CACHE = Path("/tmp/ocenka-bench")

# Every run of wrk must send tokens never sent before: a token stored
# already is a retry, answered from what was stored (200, no write), which
# would measure replays instead of ratings. wrk seeds Lua's random numbers
# the same way in every run, so the run's own nonce comes in as an argument
# and each thread of the run takes its own number. Whatever is not a 201 is
# counted and printed, for the benchmark to refuse.
LUA = """
local counter = 0
local prefix
local objects = {}
for line in io.lines("%s") do
  objects[#objects + 1] = tonumber(line)
end
local spread = %s
local threads = {}
setup = function(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end
init = function(args)
  prefix = string.format("%%s%%02x", args[1], number)
  unexpected = 0
  if spread then
    math.randomseed(tonumber(args[1], 16) * 256 + number)
  end
end
request = function()
  counter = counter + 1
  local object
  if spread then
    object = objects[math.random(#objects)]
  else
    object = objects[(counter %% #objects) + 1]
  end
  local token = string.format("%%s-0000-4000-8000-%%012x", prefix, counter)
  local body = '{"object": ' .. object .. ', "channel": "api", "client_token": "' .. token ..
    '", "scores": {"simplicity": 5, "information": 4, "timeliness": 5, "politeness": 4}}'
  return wrk.format("POST", "/api/v1/ratings", {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  if status ~= 201 then
    unexpected = unexpected + 1
  end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("not 201: %%d\\n", total))
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
    command.append(url)
    if script:
        # Six hex digits of the run's own, the first part of every token.
        command += ["--", secrets.token_hex(3)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
    # The median and the 99th percentile of the answers' latency, as wrk
    # prints them: a pause of the writer (a checkpoint) shows in the second.
    latency = ", ".join(f"p{q} " + re.search(rf"{q}%\s+([\d.]+\w+)", out.stdout).group(1) for q in (50, 99))
    # The script counts every answer but a 201 (a replayed retry is a 200);
    # without it, wrk's count of errors.
    errors = re.search(r"not 201: (\d+)", out.stdout) or re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    requests = int(re.search(r"(\d+) requests in", out.stdout).group(1))
    return rps, latency, int(errors.group(1)) if errors else 0, requests


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """User and system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def is_writer(pid):
    """Whether ``pid`` is the writer process (service/writer.py) itself,
    not its supervisor."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return False
    return b"service.writer" in command and b"--supervise" not in command


def postgres_admin(server, *statements):
    import psycopg2
    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


class Version:
    """One version of the code: its source folder, database and server."""

    def __init__(self, label, source, args, workdir, stand_in=False):
        self.label, self.source, self.args, self.stand_in = label, source, args, stand_in
        self.sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=source, capture_output=True,
                                  text=True).stdout.strip()
        # Uncommitted changes name the database too: a demo made before a
        # change of the schema is not another tree's.
        diff = b""
        if source == ROOT:
            diff = subprocess.run(["git", "diff", "HEAD"], cwd=source, capture_output=True).stdout
        dirty = f"-dirty{hashlib.sha256(diff).hexdigest()[:8]}" if diff else ""
        key = f"{self.sha}{dirty}-{args.orgs}-{args.ratings}"
        self.name = re.sub(r"[^a-z0-9_]", "_", f"ocenka_bench_{key}{'_stand_in' if stand_in else ''}".lower())
        if args.db == "sqlite":
            self.template = CACHE / f"write-{key}.sqlite3"
            self.url = f"sqlite:///{workdir / (self.name + '.sqlite3')}"
        else:
            self.template = re.sub(r"[^a-z0-9_]", "_", f"ocenka_bench_{key}_template".lower())
            self.url = f"{args.postgres}/{self.name}"
        self.server = self.writer = None

    def server_pids(self):
        """gunicorn's processes and, on PostgreSQL, the backends serving this
        version's database: together, everything that works for a request
        but the load generator."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[3]) == self.server.pid:  # its process group
                pids.append(int(stat.parent.name))
        if self.args.db == "postgresql":
            import psycopg2
            connection = psycopg2.connect(f"{self.args.postgres}/postgres")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.name,))
                pids += [pid for pid, in cursor.fetchall()]
            connection.close()
        return pids

    def measure(self, url, seconds, connections, script=None):
        """wrk's figures, the server's CPU milliseconds per request (the
        cost of a request itself, which a busy neighbour on the machine
        slows but does not add to) and the writer process's share of them."""
        pids = self.server_pids()
        writers = [pid for pid in pids if is_writer(pid)]
        before, before_writer = cpu_seconds(pids), cpu_seconds(writers)
        rps, latency, errors, requests = wrk(url, seconds, connections, script)
        per_request = 1000 / max(requests, 1)
        return (rps, latency, errors, (cpu_seconds(pids) - before) * per_request,
                (cpu_seconds(writers) - before_writer) * per_request)

    def env(self, url):
        return dict(os.environ, OCENKA_DATABASE_URL=url, OCENKA_SECRET_KEY="bench", OCENKA_RATE_LIMITS="off")

    def prepare(self):
        """The demo database, made once per version and size, then copied."""
        args = self.args
        if args.db == "sqlite":
            if not self.template.exists():
                CACHE.mkdir(parents=True, exist_ok=True)
                self._demo(f"sqlite:///{self.template}")
            shutil.copyfile(self.template, self.url[len("sqlite:///"):])
        else:
            import psycopg2
            try:
                postgres_admin(args.postgres, f'CREATE DATABASE "{self.template}"')
                self._demo(f"{args.postgres}/{self.template}")
            except psycopg2.errors.DuplicateDatabase:
                pass
            postgres_admin(args.postgres, f'DROP DATABASE IF EXISTS "{self.name}"',
                           f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}"')

    def _demo(self, url):
        started = time.monotonic()
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "demo", "--orgs", str(self.args.orgs), "--ratings",
                        str(self.args.ratings), "--no-users"], cwd=self.source, env=self.env(url), check=True,
                       capture_output=True)
        print(f"  demo for {self.label} ({self.sha}): {time.monotonic() - started:.0f} s", flush=True)

    def start(self):
        self.port = free_port()
        env = self.env(self.url)
        env["OCENKA_BIND"] = f"127.0.0.1:{self.port}"
        if self.stand_in:
            # Listening before gunicorn starts, where the real writer would.
            env["OCENKA_WRITER_PROCESS"] = "off"
            self.writer = subprocess.Popen([sys.executable, str(ROOT / "bench" / "stand_in_writer.py")], env=env,
                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            if self.writer.stdout.readline().strip() != "listening":
                raise RuntimeError("the stand-in writer did not start")
        command = [str(BIN / "gunicorn"), "--config", str(self.source / "gunicorn.conf.py"),
                   "--access-logfile", "/dev/null", "wsgi:app"]
        self.server = subprocess.Popen(command, cwd=self.source, env=env, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.label}: gunicorn did not answer")

    def stop(self):
        if self.server:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait()
        if self.writer:
            self.writer.kill()
            self.writer.wait()
        if self.args.db == "postgresql":
            postgres_admin(self.args.postgres, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def object_ids(version):
    """The objects rated: with ``--objects spread`` every published object
    of the version's database, each rating's drawn at random, as a portal's
    ratings come; with ``cycle`` organizations 20 to 1,999 in turn (the demo
    numbers them from 1 in the same order for the same size), as this
    benchmark rated before 2026-12-05: neighbours in turn share the pages of
    their sums, which flatters the writer."""
    if version.args.objects == "cycle":
        return list(range(20, min(version.args.orgs, 2000)))
    query = "SELECT id FROM ratable_object WHERE published ORDER BY id"
    if version.args.db == "sqlite":
        import sqlite3
        with contextlib.closing(sqlite3.connect(version.url[len("sqlite:///"):])) as connection:
            return [i for i, in connection.execute(query)]
    import psycopg2
    with contextlib.closing(psycopg2.connect(version.url)) as connection, connection.cursor() as cursor:
        cursor.execute(query)
        return [i for i, in cursor.fetchall()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=13_500)
    parser.add_argument("--ratings", type=int, default=445_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=3, help="rounds run first and not counted")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432",
                        help="a server; the benchmark makes its own databases there")
    parser.add_argument("--ref", action="append", default=[],
                        help="another version (a git commit) to measure beside the working tree")
    parser.add_argument("--objects", choices=["spread", "cycle"], default="spread",
                        help="each rating's object drawn from every published one, or 1,980 in turn")
    parser.add_argument("--stand-in-writer", action="store_true",
                        help="the working tree also with bench/stand_in_writer.py for its writer, which stores "
                             "nothing: what a rating costs the workers alone")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="ocenka-bench-"))
    versions = [Version("working tree", ROOT, args, workdir)]
    worktrees = []
    for ref in args.ref:
        path = workdir / f"ref-{len(worktrees)}"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(path), ref], cwd=ROOT, check=True)
        worktrees.append(path)
        versions.append(Version(ref, path, args, workdir))
    if args.stand_in_writer:
        versions.append(Version("stand-in writer", ROOT, args, workdir, stand_in=True))
    script = workdir / "rate.lua"
    try:
        print(f"{args.db}, {args.orgs} organizations, {args.ratings} ratings; gunicorn.conf.py as is; "
              f"wrk: 2 threads, {args.connections} connections, {args.seconds} s per run", flush=True)
        for version in versions:
            version.prepare()
            version.start()
        objects = workdir / "objects.txt"
        objects.write_text("".join(f"{i}\n" for i in object_ids(versions[0])))
        script.write_text(LUA % (objects, "true" if args.objects == "spread" else "false"))
        # A fresh copy of the database and fresh workers are slow for the
        # first rounds (every version climbs for four or five): warm them up
        # with rounds that are not counted.
        for round_ in range(1, args.warmup + 1):
            for version in versions:
                wrk(version.base + "/healthz", args.seconds, args.connections)
                rate, _, _, _ = wrk(version.base + "/", args.seconds, args.connections, str(script))
                print(f"warm-up {round_} {version.label:>14} ({version.sha}): ratings {rate:6.0f} req/s "
                      "(not counted)", flush=True)
        ratios = {v.label: [] for v in versions}
        rates = {v.label: [] for v in versions}
        costs = {v.label: [] for v in versions}
        writer_costs = {v.label: [] for v in versions}
        unexpected = 0
        for round_ in range(1, args.rounds + 1):
            for version in versions:
                health, health_latency, _, health_cost, _ = version.measure(
                    version.base + "/healthz", args.seconds, args.connections)
                rate, rate_latency, errors, cost, writer_cost = version.measure(
                    version.base + "/", args.seconds, args.connections, str(script))
                unexpected += errors
                ratios[version.label].append(rate / health)
                rates[version.label].append(rate)
                costs[version.label].append(cost)
                writer_costs[version.label].append(writer_cost)
                print(f"round {round_} {version.label:>14} ({version.sha}): /healthz {health:6.0f} req/s "
                      f"({health_latency}, {health_cost:.3f} ms CPU), ratings {rate:6.0f} req/s "
                      f"({rate_latency}, non-201: {errors}, {cost:.3f} ms CPU, the writer's {writer_cost:.3f}), "
                      f"ratio {rate / health:.3f}",
                      flush=True)
        print()
        base = statistics.median(ratios["working tree"])
        for version in versions:
            r = ratios[version.label]
            c = costs[version.label]
            w = writer_costs[version.label]
            line = (f"{version.label:>14} ({version.sha}): ratings {statistics.median(rates[version.label]):.0f} "
                    f"req/s median; ratio to /healthz median {statistics.median(r):.3f} "
                    f"(lowest {min(r):.3f}, highest {max(r):.3f}); server CPU per rating "
                    f"{statistics.median(c):.3f} ms ({min(c):.3f}–{max(c):.3f}), the writer's "
                    f"{statistics.median(w):.3f} ms ({min(w):.3f}–{max(w):.3f})")
            if version.label != "working tree":
                # Ratings per second against the working tree's in the same
                # round: the ratio to /healthz would mislead wherever
                # /healthz itself differs between the versions.
                mine = [a / b for a, b in zip(rates["working tree"], rates[version.label])]
                line += (f"; the working tree's ratings/s against it, per round: median {statistics.median(mine):.3f} "
                         f"(lowest {min(mine):.3f}, highest {max(mine):.3f}); ratio of the /healthz ratios "
                         f"{statistics.median(r) / base:.2f}")
                cheaper = [a / b for a, b in zip(costs["working tree"], costs[version.label])]
                line += (f"; the working tree's CPU per rating against it, per round: median "
                         f"{statistics.median(cheaper):.3f} (lowest {min(cheaper):.3f}, highest {max(cheaper):.3f})")
            print(line)
        if unexpected:
            print(f"\n{unexpected} answers were not 201 (see above): those runs did not measure new ratings alone")
    finally:
        for version in versions:
            version.stop()
        for path in worktrees:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
