"""Test settings: fast hasher, tasks run inline, a throwaway data folder, templates strict."""

import os
import tempfile

os.environ.setdefault("TADAMUN_DATA_DIR", tempfile.mkdtemp(prefix="tadamun-test-"))
os.environ["TADAMUN_TASKS"] = "immediate"
os.environ["TADAMUN_FAST_HASHER"] = "1"

from tadamun.settings import *  # noqa: E402,F403

DEBUG = False
TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = "INVALID[%s]"  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
