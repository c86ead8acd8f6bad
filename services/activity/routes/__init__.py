"""Activity's HTTP routes, one module per resource (reports, evidence, openings, SKP targets,
the migration import); deps.py holds what they share. app.py includes the routers. The
caller is the person in X-Actor-Nip / X-Actor-Role (forwarded by the portal)."""
