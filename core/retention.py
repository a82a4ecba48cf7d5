"""Retention categories: the registry that apps fill from their
AppConfig.ready() (`retention_category_register`). A category names a model,
the date its age counts from, what may be done when it expires (delete or
anonymise), its legal minimum, and which rows are never touched (legal holds,
records still in force). The purge that applies the policies is
compliance.retention's; it reads the categories from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db import models

DELETE = "delete"
ANONYMISE = "anonymise"
FIVE_YEARS = 1826  # days; 5 years including a leap day


@dataclass(frozen=True)
class RetentionCategory:
    key: str
    label: str
    model: str  # "app_label.ModelName"
    age_field: str  # the datetime whose age counts
    actions: tuple[str, ...] = (DELETE,)
    default_days: int = FIVE_YEARS
    default_active: bool = False
    legal_minimum_days: int = 0
    legal_basis: str = ""
    # eligible(expired rows, cutoff): only those that may go (legal holds, records in force).
    eligible: Callable[[models.QuerySet, datetime], models.QuerySet] | None = None
    # anonymise(ids, by) -> rows anonymised; required when ANONYMISE is an action.
    anonymise: Callable[[list[int], object], int] | None = None
    # delete_dependents(doomed): raw-deletes, before the doomed rows and in the
    # same transaction, the rows that reference them (no cascade emulation).
    delete_dependents: Callable[[models.QuerySet], None] | None = None
    also_delete_history: bool = True
    # purge(ids) -> rows deleted: deletes these expired rows itself (a door of
    # the database's owner, which may refuse some); instead of a plain DELETE.
    purge: Callable[[list[int]], int] | None = None

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def expired(self, cutoff: datetime) -> models.QuerySet:
        queryset = self.model_class()._default_manager.filter(**{f"{self.age_field}__lt": cutoff})
        return self.eligible(queryset, cutoff) if self.eligible else queryset


_CATEGORIES: dict[str, RetentionCategory] = {}


def retention_category_register(category: RetentionCategory) -> None:
    if ANONYMISE in category.actions and category.anonymise is None:
        raise ValueError(f"{category.key}: an anonymising category needs an anonymise function")
    if category.default_days < category.legal_minimum_days:
        raise ValueError(f"{category.key}: default period under its legal minimum")
    _CATEGORIES[category.key] = category


def retention_categories() -> dict[str, RetentionCategory]:
    return dict(sorted(_CATEGORIES.items()))


def retention_category(key: str) -> RetentionCategory | None:
    return _CATEGORIES.get(key)


def legal_minimum_error(category: RetentionCategory, period_days: int) -> str | None:
    if period_days < category.legal_minimum_days:
        years = category.legal_minimum_days / 365.25
        return (
            f"{category.label} must be kept at least {category.legal_minimum_days} days "
            f"(about {years:.0f} year{'s' if round(years) != 1 else ''}): {category.legal_basis}."
        )
    return None
