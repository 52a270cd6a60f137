"""The application for gunicorn (``wsgi:app``) and ``flask --app wsgi``."""
from service import allocator, create_app

# Each gunicorn worker imports this before its threads start: two malloc
# arenas for its eight threads, not sixteen (service/allocator.py says why).
allocator.limit_arenas()

app = create_app()
