from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from pgvector.django import HnswIndex, VectorField


class ItemVector(models.Model):
    """One item's embedding in PostgreSQL (database alias `vectors`), searchable through the HNSW index.

    `item_id` is `catalog.Item.pk` in the default database: no foreign key across databases, so the sync
    service (and `vectors_check --repair`) keep the two in line. The column has a fixed dimension
    (settings.VECTOR_DIM): an embedding model with another dimension needs a new migration.
    """

    item_id = models.BigIntegerField()
    model_name = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    category_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    embedding = VectorField(dimensions=settings.VECTOR_DIM)
    # Copied from the ItemEmbedding row, to tell a stale vector from a current one.
    text_hash = models.CharField(max_length=64, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item_id", "model_name"], name="itemvector_unique_per_model"),
        ]
        indexes = [
            HnswIndex(
                name="itemvector_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(name="itemvector_categories_gin", fields=["category_ids"]),
        ]

    def __str__(self):
        return f"item {self.item_id} / {self.model_name}"
