"""Entry point for gunicorn (``gunicorn wsgi:app``) and the flask CLI (``flask --app wsgi``)."""
import gc

from app import create_app

app = create_app()
# What the app built to start (modules, models, catalogs: ~125,000 objects) stays for the life
# of the process: frozen, the garbage collector's full passes stop walking it. Each full pass
# cost ~65 ms on the issue page's process, about one in 50 renders (docs/performance.md).
gc.freeze()
