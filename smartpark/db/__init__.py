"""Database access: connections, the local default URL, migrations."""

from smartpark.db.connect import connect, database_url

__all__ = ["connect", "database_url"]
