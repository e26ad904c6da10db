"""`python -m services.runtime`: convert and cache the bundled model ahead of time (used by `just setup`)."""

from .models import ensure_bundled_model
from .settings import Settings

print(ensure_bundled_model(Settings.from_env().model_cache_dir))
