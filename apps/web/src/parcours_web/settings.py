"""Typed settings read from the environment (names fixed by docs/api-contract.md)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import msgspec

from shared_core.calendar import HOLIDAY_ZONES


class SettingsError(ValueError):
    pass


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str
    secret_key: str
    holiday_zone: str = "metropole"
    cookie_secure: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    default_locale: str = "fr"
    scale_text_dir: Path | None = None
    var_dir: Path = Path("var")
    kiosk_minutes: int = 30
    # How stale the observer indicators may be while referrals move: older tables are recomputed in the
    # background (a national computation takes minutes); 0 computes on every change, before answering.
    indicators_max_age_minutes: int = 15
    # Benchmark runs only: serve GET /bench/h, the plain-text baseline H of quality.md (no database, no
    # session). Off by default because api-contract.md allows no other unauthenticated route.
    bench_endpoint: bool = False


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}")


def _int(value: str, name: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}")
    return number


def _secret_key(var_dir: Path) -> str:
    """Local demo only: keep a generated key under var/ so sessions survive restarts."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    var_dir = Path(env.get("PARCOURS_VAR_DIR", "var"))
    database_url = env.get("PARCOURS_DATABASE_URL") or f"sqlite:///{(var_dir / 'parcours.db').as_posix()}"
    zone = env.get("PARCOURS_HOLIDAY_ZONE", "metropole")
    if zone not in HOLIDAY_ZONES:
        raise SettingsError(f"PARCOURS_HOLIDAY_ZONE must be one of {', '.join(HOLIDAY_ZONES)}, not {zone!r}")
    locale = env.get("PARCOURS_DEFAULT_LOCALE", "fr")
    if locale not in ("fr", "en"):
        raise SettingsError("PARCOURS_DEFAULT_LOCALE must be fr or en")
    text_dir = env.get("PARCOURS_SCALE_TEXT_DIR")
    return Settings(
        database_url=database_url,
        secret_key=env.get("PARCOURS_SECRET_KEY") or _secret_key(var_dir),
        holiday_zone=zone,
        cookie_secure=_bool(env.get("PARCOURS_COOKIE_SECURE", "true"), "PARCOURS_COOKIE_SECURE"),
        bench_endpoint=_bool(env.get("PARCOURS_BENCH_ENDPOINT", "false"), "PARCOURS_BENCH_ENDPOINT"),
        session_idle_minutes=_int(env.get("PARCOURS_SESSION_IDLE_MINUTES", "30"), "PARCOURS_SESSION_IDLE_MINUTES", 1),
        session_absolute_hours=_int(env.get("PARCOURS_SESSION_ABSOLUTE_HOURS", "12"),
                                    "PARCOURS_SESSION_ABSOLUTE_HOURS", 1),
        default_locale=locale,
        scale_text_dir=Path(text_dir) if text_dir else (Path("scale_text") if Path("scale_text").is_dir() else None),
        var_dir=var_dir,
        indicators_max_age_minutes=_int(env.get("PARCOURS_INDICATORS_MAX_AGE_MINUTES", "15"),
                                        "PARCOURS_INDICATORS_MAX_AGE_MINUTES", 0),
    )
