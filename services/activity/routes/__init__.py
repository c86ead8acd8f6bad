"""Activity's HTTP routes, one module per resource (reports, evidence, openings, SKP targets,
the migration import); deps.py holds what they share. app.py includes the routers. The
caller is the person their bearer token proves (services.shared.http.actor)."""
