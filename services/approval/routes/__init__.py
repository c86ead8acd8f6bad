"""Approval's HTTP routes, one module per resource (queue, decisions, delegations, audit and
periods); deps.py holds what they share. app.py includes the routers."""
