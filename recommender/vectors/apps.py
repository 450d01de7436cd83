from django.apps import AppConfig


class VectorsConfig(AppConfig):
    """Nearest-neighbour search over item embeddings: in-process (memory) or PostgreSQL + pgvector."""

    name = "recommender.vectors"
    label = "vectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from recommender.vectors import handlers

        handlers.connect()
