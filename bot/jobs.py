"""Scheduled job kinds and their handlers; the scheduler stores only the kind name and a payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.context import Context
from bot.handlers.ask import UNANSWERED_CHECK, unanswered_check

JobHandler = Callable[[Context, dict[str, Any], datetime], Awaitable[None]]


class JobFailed(Exception):
    """The job could not run now; the dispatcher retries it later."""


JOB_HANDLERS: dict[str, JobHandler] = {UNANSWERED_CHECK: unanswered_check}
