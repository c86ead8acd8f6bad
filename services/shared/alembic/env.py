"""One Alembic environment for every service; the service's MetaData and connection come in
through config.attributes (see services/shared/migrations.py)."""

from alembic import context

config = context.config
metadata = config.attributes["metadata"]
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=config.attributes["version_table"],
    render_as_batch=True,  # SQLite needs batch mode for ALTER
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
