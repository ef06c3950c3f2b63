"""Settings for the test suite: the real settings, with a throwaway secret and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
# The test client and the live server speak plain HTTP (tests of HTTPS settings set them).
os.environ.setdefault("SECURE_HTTPS", "0")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
# No collectstatic in tests: serve files by name.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Jobs run in-process in tests; a test that starts a real worker switches this off itself.
CELERY_TASK_ALWAYS_EAGER = True
# Name the test database (default: "test_" + the database's name), e.g. to keep to a prefix.
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}  # noqa: F405
