"""The portal's HTTP routes: session (login and its steps, JSON), accounts (codes, grants,
audit; JSON) and pages (server-rendered forms in Bahasa Indonesia); deps.py holds what they
share. app.py includes the routers."""
