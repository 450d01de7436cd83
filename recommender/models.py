import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EmbeddingBase(models.Model):
    """A text embedding, stored as float32 bytes, tagged with the model that made it.

    `text_hash` is the SHA-256 of the exact text embedded: when the owner's text changes the hash
    no longer matches and the vector is stale (recomputed, never served as current).
    """

    model_name = models.CharField(max_length=255)
    dim = models.PositiveIntegerField()
    vector = models.BinaryField()
    text_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def as_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.vector), dtype=np.float32)


class ItemEmbedding(EmbeddingBase):
    item = models.ForeignKey("catalog.Item", on_delete=models.CASCADE, related_name="embeddings")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "model_name"], name="item_embedding_unique_per_model"),
            models.CheckConstraint(condition=Q(dim__gt=0), name="item_embedding_dim_positive"),
        ]
        # The serving and vector-index change checks count a model's vectors and read their latest
        # change: from this index alone, not a scan through every stored vector (0.6 s at 100,000).
        indexes = [models.Index(fields=["model_name", "updated_at"], name="item_embedding_model_changed")]

    def __str__(self):
        return f"item {self.item_id} / {self.model_name}"


class UserEmbedding(EmbeddingBase):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="embeddings")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "model_name"], name="user_embedding_unique_per_model"),
            models.CheckConstraint(condition=Q(dim__gt=0), name="user_embedding_dim_positive"),
        ]

    def __str__(self):
        return f"user {self.user_id} / {self.model_name}"


class ModelVersionQuerySet(models.QuerySet):
    def serving(self) -> "ModelVersionQuerySet":
        """The versions the site serves: the live one and the challenger, if any."""
        return self.filter(Q(is_live=True) | Q(is_challenger=True))


class ModelVersion(models.Model):
    """A trained scorer artifact. Exactly one version is live (is_live=True); others keep NULL."""

    # The fields of a version that is not the challenger (an `update(**NOT_CHALLENGER)` ends its turn).
    NOT_CHALLENGER = dict(is_challenger=None, challenger_share=None, challenger_since=None)

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        REJECTED = "rejected", "Rejected"  # refused at publish time (corrupt or incompatible)
        ARCHIVED = "archived", "Archived"  # superseded; its artifact file was deleted

    created_at = models.DateTimeField(auto_now_add=True)
    artifact_path = models.CharField(max_length=500)
    artifact_sha256 = models.CharField(max_length=64)
    embedding_model = models.CharField(max_length=255)
    embedding_dim = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.READY)
    # True for the live version, NULL for all others: the unique index allows one True only.
    is_live = models.BooleanField(null=True, unique=True, default=None)
    published_at = models.DateTimeField(null=True, blank=True)
    # The challenger (at most one, never the live one) serves `challenger_share` of the users, picked by a
    # hash of the user and the version (`recommender.experiments`); True for it, NULL for all others.
    is_challenger = models.BooleanField(null=True, unique=True, default=None)
    challenger_share = models.FloatField(null=True, blank=True)
    challenger_since = models.DateTimeField(null=True, blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(is_live=True) | Q(is_live__isnull=True), name="live_true_or_null"),
            models.CheckConstraint(
                condition=(
                    Q(
                        is_challenger=True,
                        challenger_share__gt=0,
                        challenger_share__lt=1,
                        challenger_since__isnull=False,
                        is_live__isnull=True,
                    )
                    | Q(is_challenger__isnull=True, challenger_share__isnull=True)
                ),
                name="challenger_share_between_0_and_1",
            ),
        ]

    def __str__(self):
        return f"v{self.pk} ({'live' if self.is_live else 'challenger' if self.is_challenger else self.status})"


class EvaluationReport(models.Model):
    """The metrics of every method in every scenario of one `evaluate` run."""

    created_at = models.DateTimeField(auto_now_add=True)
    params = models.JSONField(default=dict)
    results = models.JSONField(default=dict)
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Evaluation #{self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class TaskLock(models.Model):
    """A named lease. Claimed with a conditional UPDATE, so it survives (expires after) a dead worker."""

    name = models.CharField(max_length=64, unique=True)
    owner = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    # What the holder is doing now (a retrain's phase), shown on the staff page while it is held.
    progress = models.CharField(max_length=200, blank=True, default="")

    def __str__(self):
        return self.name


class Impression(models.Model):
    """One item shown to a user in a feed: what, where in the list, by which model and regime, when.

    Written in one multi-row INSERT per feed (`recommender.impressions`); the reactions are the
    interactions that follow (`staff_selectors.online_metrics`).
    """

    class Regime(models.TextChoices):
        USER_COLD = "user_cold", "User-cold"
        FEW_SHOT = "few_shot", "Few-shot"
        WARM = "warm", "Warm"
        FALLBACK = "fallback", "No model (fallbacks)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="impressions")
    item = models.ForeignKey("catalog.Item", on_delete=models.CASCADE, related_name="impressions")
    position = models.PositiveSmallIntegerField()  # 0 is the top of the feed
    model_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL)
    regime = models.CharField(max_length=16, choices=Regime.choices)
    surface = models.CharField(max_length=16)  # api, site or service
    shown_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "item", "shown_at"], name="impression_user_item")]

    def __str__(self):
        return f"item {self.item_id} at {self.position} for user {self.user_id}"
