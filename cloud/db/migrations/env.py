"""Alembic environment: runs migrations on the URL set by ``cloud.db.engine``."""

from alembic import context

from cloud.db import models  # noqa: F401  (registers the tables)
from cloud.db.base import Base
from cloud.db.engine import make_engine

try:
    from cloud.db import operator_models  # noqa: F401
except ImportError:
    pass

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
