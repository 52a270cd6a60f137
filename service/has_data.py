"""Exit status 0 when the configured database has organizations (used by
scripts/run to decide whether to load demo data)."""
import sys

from service import create_app
from service.db import database
from service.models import RatableObject

if __name__ == "__main__":
    app = create_app()
    with app.app_context(), database.connection_context():
        sys.exit(0 if RatableObject.table_exists() and RatableObject.select().exists() else 1)
