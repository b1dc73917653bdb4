"""Settings of the minimal Channels app (benchmarks/minimal_app.py): no database, no middleware.

The channel layer is the one FlowChat configures with REDIS_URL (channels-redis's
publish/subscribe layer), under a prefix of its own.
"""

import os

SECRET_KEY = os.getenv("SECRET_KEY") or "minimal-benchmark-app"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "prefix": "minimal-bench"},
    }
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}
