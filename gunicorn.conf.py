"""gunicorn settings for ``scripts/run``; override any with GUNICORN_CMD_ARGS."""
import os

bind = os.environ.get("OCENKA_BIND", "127.0.0.1:8000")
# Threads share each worker's pooled database connections and keep
# connections from clients alive; a rating request spends most of its time
# waiting for the disk, which threads overlap.
worker_class = "gthread"
workers = int(os.environ.get("OCENKA_WORKERS", "2"))
threads = int(os.environ.get("OCENKA_THREADS", "8"))
keepalive = 5
timeout = 30
graceful_timeout = 10
accesslog = "-"
