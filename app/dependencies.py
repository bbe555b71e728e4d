"""Request dependencies several routers share: today, the settings, the groups' rules."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from app.http import today_utc
from config.settings import GroupSettings, Settings
from geo import groups
from geo.groups import GroupRules

Today = Annotated[date, Depends(today_utc)]


def app_settings(request: Request) -> Settings:
    """The settings bundle the application was built with (``create_app(settings)``)."""
    settings: Settings = request.app.state.settings
    return settings


def group_settings(request: Request) -> GroupSettings:
    """The groups' settings, from the application's bundle (tests override this dependency)."""
    return app_settings(request).groups


GroupSettingsDep = Annotated[GroupSettings, Depends(group_settings)]


def group_rules(settings: GroupSettingsDep) -> GroupRules:
    """The registry's limits, from the settings."""
    return GroupRules(
        active_months=settings.group_active_months,
        max_area_km2=settings.group_max_area_km2,
        min_area_km2=settings.group_min_area_km2,
        organiser_max_area_km2=settings.organiser_max_area_km2,
        rating_repeat_days=settings.group_rating_repeat_days,
        ratings_per_day=settings.group_ratings_per_day,
        messages_per_hour=settings.group_messages_per_hour,
        messages_per_day=settings.group_messages_per_day,
    )


def sender_fingerprint(request: Request, settings: GroupSettingsDep) -> str:
    """The keyed hash of the client's address (the address is never stored)."""
    address = request.client.host if request.client else "unknown"
    return groups.client_fingerprint(
        address, settings.fingerprint_secret.get_secret_value().encode()
    )


Rules = Annotated[GroupRules, Depends(group_rules)]
Fingerprint = Annotated[str, Depends(sender_fingerprint)]
