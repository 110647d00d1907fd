"""Storage: SQLAlchemy 2.x models, repositories and Alembic migrations (SQLite or PostgreSQL)."""
