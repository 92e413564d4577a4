"""The admin's additions to the working-day calendar: a year the packaged calendar does not
know yet (next year's State Council announcement), or a correction to one it does."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class WorkdayYear(Base):
    """A year whose whole announcement was loaded: its days are known from then on."""

    __tablename__ = "workday_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkdayOverride(Base):
    """One day that is not what its weekday says: a holiday on a weekday, or a make-up
    working day (调休) on a weekend."""

    __tablename__ = "workday_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(64))
    loaded_by: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
