"""A stand-in for the writer process (service/writer.py) that stores
nothing: it answers every rating at once with a made-up id and receipt.
``bench/bench_write.py --stand-in-writer`` serves with it, to weigh what a
rating costs the workers alone (the request, the rating's checks, the
round trip to the writer) against what the writer adds.

    OCENKA_DATABASE_URL=... .venv/bin/python bench/stand_in_writer.py

It listens where the workers look for the writer of that database; start
it before gunicorn, with OCENKA_WRITER_PROCESS=off for gunicorn, so that no
real writer takes the address. Never beside a server whose ratings matter:
they are acknowledged and lost.
"""
import marshal
import selectors
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service import create_app, writer  # noqa: E402
from service.db import database  # noqa: E402


def answer(number):
    return writer._frame(("ok", (number, False, {"seq": number, "hash": f"{number:064x}"})))


def serve(name):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(name)
    listener.listen(256)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    print("listening", flush=True)
    taken = 0
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                sock, _ = listener.accept()
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ, writer._Connection(sock))
                continue
            connection = key.data
            try:
                data = connection.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            if not data:
                selector.unregister(connection.sock)
                connection.sock.close()
                continue
            connection.buffer += data
            for payload in connection.frames():
                task, _ = marshal.loads(payload)
                if task != "rating":
                    sys.exit(f"the stand-in answers ratings only, not {task!r}")
                taken += 1
                connection.sock.sendall(answer(taken))


def main():
    app = create_app()
    with app.app_context():
        name = writer.address(database.obj)
    serve(name)


if __name__ == "__main__":
    main()
