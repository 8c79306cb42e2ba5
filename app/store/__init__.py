"""SQL storage: SQLAlchemy 2.0 models, engine and session, repositories, job queue."""
