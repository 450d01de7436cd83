"""Sends the vectors app's tables (and only those) to the `vectors` database (PostgreSQL + pgvector)."""

VECTORS_APP = "vectors"
VECTORS_DB = "vectors"


class VectorRouter:
    """Installed always, so the vectors tables never land in the default database, pgvector or not."""

    def db_for_read(self, model, **hints):
        return VECTORS_DB if model._meta.app_label == VECTORS_APP else None

    def db_for_write(self, model, **hints):
        return VECTORS_DB if model._meta.app_label == VECTORS_APP else None

    def allow_relation(self, obj1, obj2, **hints):
        # No foreign keys across the two databases: a vector refers to its item by id only.
        in_vectors = {obj1._meta.app_label == VECTORS_APP, obj2._meta.app_label == VECTORS_APP}
        return False if in_vectors == {True, False} else None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == VECTORS_APP:
            return db == VECTORS_DB
        return False if db == VECTORS_DB else None
