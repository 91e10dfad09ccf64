"""The API routes wrapped in the production security headers, for granian in the browser test."""

from backend.api import create_app
from backend.api.headers import SecurityHeaders

app = SecurityHeaders(create_app())
