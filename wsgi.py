"""The WSGI entry point: ``gunicorn wsgi:app``.

gunicorn.conf.py preloads the app in the master, so what is built here is shared by every forked worker
(copy-on-write): the network, and the timetable grids and pause calendars every quote and ETA reads,
which a fresh worker would otherwise build during its first requests.
"""

from routing.network import load_network
from routing.quotes import warm_timetables
from web import create_app

app = create_app()
warm_timetables(load_network())
