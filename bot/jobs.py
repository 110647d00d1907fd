"""Scheduled job kinds and their handlers; the scheduler stores only the kind name and a payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.cafe import engine as cafe
from bot.calendar.reminders import PLAN, REMIND, run_plan, run_reminder
from bot.context import Context
from bot.meetups.rounds import ANNOUNCE, FOLLOWUP, ROUND, run_announce, run_followup, run_round
from bot.routing import NUDGE, WAVE, run_nudge, run_wave

JobHandler = Callable[[Context, dict[str, Any], datetime], Awaitable[None]]


class JobFailed(Exception):
    """The job could not run now; the dispatcher retries it later."""


JOB_HANDLERS: dict[str, JobHandler] = {
    WAVE: run_wave,
    NUDGE: run_nudge,
    ROUND: run_round,
    ANNOUNCE: run_announce,
    FOLLOWUP: run_followup,
    REMIND: run_reminder,
    PLAN: run_plan,
    cafe.BEGIN: cafe.begin,
    cafe.REMIND: cafe.remind,
    cafe.WARN: cafe.warn,
    cafe.CLOSE: cafe.close,
}
