"""The schema. A Member is one person, linked to any number of platform identities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UtcDateTime


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    visibility: Mapped[str] = mapped_column(String(20), default="listed")  # listed | hidden
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    identities: Mapped[list[Identity]] = relationship(back_populates="member", cascade="all, delete-orphan")
    profile: Mapped[Profile | None] = relationship(back_populates="member", cascade="all, delete-orphan")
    tags: Mapped[list[ProfileTag]] = relationship(back_populates="member", cascade="all, delete-orphan")


class Identity(Base):
    """One account of a member on one platform (Slack user id, Discord user id, console name)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_identity_platform_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(64))

    member: Mapped[Member] = relationship(back_populates="identities")


class Profile(Base):
    """Single-valued profile fields; multi-valued ones (roles, subjects...) live in ProfileTag."""

    __tablename__ = "profiles"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(100))
    school: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(10))
    open_to_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    work_start: Mapped[int] = mapped_column(Integer, default=8 * 60)  # minutes after local midnight
    work_end: Mapped[int] = mapped_column(Integer, default=20 * 60)
    bio: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    member: Mapped[Member] = relationship(back_populates="profile")


class ProfileTag(Base):
    """A role, programme, subject or language of a member, as a catalogue term id (bot/catalog.py)."""

    __tablename__ = "profile_tags"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "term", name="uq_profile_tag"),
        Index("ix_profile_tags_kind_term", "kind", "term"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # role | programme | subject | language
    term: Mapped[str] = mapped_column(String(64))

    member: Mapped[Member] = relationship(back_populates="tags")


class Question(Base):
    """A question asked with /ask; the source event id makes a re-delivered command harmless."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("platform", "source_event_id", name="uq_question_source_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    source_event_id: Mapped[str] = mapped_column(String(128))
    asker_user_id: Mapped[str] = mapped_column(String(64))
    asker_name: Mapped[str] = mapped_column(String(200))
    asker_locale: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(64))
    thread_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    root_message_id: Mapped[str | None] = mapped_column(String(128))
    permalink: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_answer_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_answerer_user_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))  # catalogue term ids, given or inferred
    programme: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    asker_timezone: Mapped[str | None] = mapped_column(String(64))
    solved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    solved_answer_id: Mapped[int | None] = mapped_column(Integer)
    waves_sent: Mapped[int] = mapped_column(Integer, default=0)


class Answer(Base):
    """A reply in a question's thread by someone other than the asker; the message id makes a
    re-delivered event harmless."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("question_id", "message_id", name="uq_answer_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Notification(Base):
    """One routing ping: a member is notified about a question at most once (unique), and the daily
    cap counts these rows."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("question_id", "member_id", name="uq_notification_member"),
        Index("ix_notifications_member_sent", "member_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    wave: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Delivery(Base):
    """The delivery ledger: one row per thing sent by scheduled work; the unique key forbids a repeat.

    `owner` is the claiming process's instance key (storage/lease.py): an unsent claim whose owner is
    gone is "in doubt" and may be taken over, with the platform asked first whether it arrived."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index(
            "ix_deliveries_unsent",
            "owner",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    owner: Mapped[int | None] = mapped_column(BigInteger)


class SchoolStaff(Base):
    """Staff head-count per school, for the critical-mass report (members as a share of staff)."""

    __tablename__ = "school_staff"

    school: Mapped[str] = mapped_column(String(200), primary_key=True)
    staff: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DirectoryChange(Base):
    """A changelog of directory writes: caches in any process reload only the members changed since
    the version they hold (the highest `version` they have seen)."""

    __tablename__ = "directory_changes"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(Integer)


class ScheduledJob(Base):
    """Pending scheduled work, written through the bot's own engine (see adapters/scheduler.py)."""

    __tablename__ = "scheduled_jobs"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    run_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON


class MeetupMember(Base):
    """A member taking part in job-alike meet-up rounds, on the platform they joined from."""

    __tablename__ = "meetup_members"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    cadence_weeks: Mapped[int] = mapped_column(Integer, default=1)  # 1, 2 or 4
    group_size: Mapped[int] = mapped_column(Integer, default=2)  # the largest group they accept, 2-4
    paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MeetupAvoid(Base):
    """ "Don't match me with": a hard exclusion, applied both ways."""

    __tablename__ = "meetup_avoids"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    avoided_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )


class MeetupSchedule(Base):
    """The round schedule an admin set for one platform: every N weeks on a weekday at a local time."""

    __tablename__ = "meetup_schedules"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    cadence_weeks: Mapped[int] = mapped_column(Integer)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    at_minutes: Mapped[int] = mapped_column(Integer)  # local minutes after midnight
    timezone: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))
    next_round_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MeetupRound(Base):
    """One matching round; the unique key makes a replayed round job find the round it already made."""

    __tablename__ = "meetup_rounds"
    __table_args__ = (UniqueConstraint("platform", "scheduled_for", name="uq_meetup_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime)
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime)
    seed: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[int] = mapped_column(Integer)


class MeetupGroup(Base):
    """A group formed in a round and the conversation the bot opened for it."""

    __tablename__ = "meetup_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("meetup_rounds.id", ondelete="CASCADE"), index=True)
    weight: Mapped[int] = mapped_column(Integer)
    regions: Mapped[int] = mapped_column(Integer)  # distinct regions in the group (cross-region share)
    channel: Mapped[str | None] = mapped_column(String(64))
    thread: Mapped[str | None] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(128))


class MeetupGroupMember(Base):
    """Who was in a group, and their answer to "Did you meet?" (yes | no)."""

    __tablename__ = "meetup_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("meetup_groups.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    met: Mapped[str | None] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MeetupSitOut(Base):
    """A member who could not be matched in a round, and why (a matching.Reason value)."""

    __tablename__ = "meetup_sitouts"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("meetup_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))


class CalendarEvent(Base):
    """A community meeting: a one-off, a recurrence rule, or an explicit list of dates, at a local
    wall-clock time in a named zone (so recurrences keep their local time across DST changes)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_local: Mapped[str] = mapped_column(String(16))  # "YYYY-MM-DDTHH:MM", naive local time
    timezone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    rrule: Mapped[str | None] = mapped_column(String(300))
    dates: Mapped[str | None] = mapped_column(Text)  # JSON list of ISO dates, instead of a rule
    breakouts: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of group names
    reminders: Mapped[str] = mapped_column(String(100), default="1440,60")  # minutes before
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # bumped on edits (iCal SEQUENCE)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the whole series


class EventChange(Base):
    """One occurrence cancelled or moved; `original` (UTC) is the occurrence's identity."""

    __tablename__ = "event_changes"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    original: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    status: Mapped[str] = mapped_column(String(10))  # cancelled | moved
    new_start: Mapped[datetime | None] = mapped_column(UtcDateTime)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EventRsvp(Base):
    """Going / maybe / not going to one occurrence, by a platform user (directory or not)."""

    __tablename__ = "event_rsvps"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    original: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))  # going | maybe | no
    locale: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CafeSession(Base):
    """A World Café run in chat: its template, where, who hosts, and which round it is in.

    `seating` (JSON) is the table plan for every round, kept so a restart resumes the same tables."""

    __tablename__ = "cafe_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10))
    host_user_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))  # scheduled | open | running | paused | ended
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    current_round: Mapped[int] = mapped_column(Integer, default=-1)  # -1 before the first round
    round_ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paused_seconds_left: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    seating: Mapped[str] = mapped_column(Text, default="[]")
    announcement: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CafeParticipant(Base):
    __tablename__ = "cafe_participants"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("cafe_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(10))
    table_host: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CafeTable(Base):
    """One tablecloth: a table's thread in one round; messages after `closed_at` are not counted."""

    __tablename__ = "cafe_tables"
    __table_args__ = (Index("ix_cafe_tables_thread", "thread"),)

    session_id: Mapped[int] = mapped_column(
        ForeignKey("cafe_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    round_index: Mapped[int] = mapped_column(Integer, primary_key=True)  # the take-out round is len(rounds)
    table_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    thread: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CafeNote(Base):
    """A contribution written on a tablecloth while it was open (the message id makes a re-delivery
    harmless)."""

    __tablename__ = "cafe_notes"
    __table_args__ = (UniqueConstraint("session_id", "message_id", name="uq_cafe_note_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("cafe_sessions.id", ondelete="CASCADE"), index=True)
    round_index: Mapped[int] = mapped_column(Integer)
    table_index: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
