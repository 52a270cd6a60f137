"""gunicorn settings for ``scripts/run``; override any with GUNICORN_CMD_ARGS."""
import os
import signal
import subprocess
import sys

bind = os.environ.get("OCENKA_BIND", "127.0.0.1:8000")
# Threads share each worker's pooled database connections and keep
# connections from clients alive; a rating request spends most of its time
# waiting for the disk, which threads overlap.
worker_class = "gthread"
# Three workers on two CPUs: a rating's request thread waits for the writer
# process and must then win its worker's interpreter lock back; spread over
# three workers, fewer threads probably contend for each lock. Measured
# against two at the real portal's size, ratings per second rose by a median
# 3.5 % (docs/benchmarks.md); four workers of four threads were slower.
workers = int(os.environ.get("OCENKA_WORKERS", "3"))
threads = int(os.environ.get("OCENKA_THREADS", "8"))
# Each worker binds its own listening socket (SO_REUSEPORT) and the kernel
# spreads new connections over them evenly. With one shared socket, whichever
# idle worker wakes first takes the connection, and with keep-alive a
# benchmark's connections pile onto one worker while the other idles: the
# throughput figures came out bimodal, one worker's or two workers' worth.
reuse_port = True
keepalive = 5
timeout = 30
graceful_timeout = 10
accesslog = "-"
# No client address: the README promises that no raw address is kept, and
# the log is kept. gunicorn's default format starts with %(h)s, the peer's
# address; this one has the time, the worker's pid, the request line,
# status, size, duration in microseconds, referrer and user agent.
access_log_format = '%(t)s %(p)s "%(r)s" %(s)s %(B)s %(D)sus "%(f)s" "%(a)s"'

# One process commits every worker's ratings (service/writer.py): the
# workers share its batches. OCENKA_WRITER_PROCESS=off leaves each worker
# to commit its own, as it does whenever the writer is not there. Started
# here, before the workers are forked, through a supervisor process that
# restarts it; its handle is kept on the master, not in this file, which a
# reload (SIGHUP) reads anew.


def when_ready(server):
    if os.environ.get("OCENKA_WRITER_PROCESS", "on").lower() not in ("off", "0", "false", "no"):
        server.ocenka_writer = subprocess.Popen([sys.executable, "-m", "service.writer", "--supervise"])


def on_reload(server):
    # A new writer with the code as it is now, as the workers get.
    supervisor = getattr(server, "ocenka_writer", None)
    if supervisor is not None and supervisor.poll() is None:
        supervisor.send_signal(signal.SIGHUP)


def on_exit(server):
    supervisor = getattr(server, "ocenka_writer", None)
    if supervisor is not None and supervisor.poll() is None:
        supervisor.terminate()
        try:
            supervisor.wait(timeout=15)
        except subprocess.TimeoutExpired:
            supervisor.kill()
