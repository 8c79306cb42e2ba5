"""The operations console: server-rendered pages under /console (Jinja2, no build step).

sessions.py  the signed, short, HttpOnly SameSite=Strict session cookie and its CSRF token
access.py    who is at the console: login with an admin client's token, or development mode
pages.py     read pages: worklist, detail, jobs, webhooks, report
actions.py   POST forms (CSRF-checked): refresh, cancel, retry, redeliver
chart.py     the decision-time chart of the report as inline SVG
"""
