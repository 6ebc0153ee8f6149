"""Teams at run time: their members' accounts, an agent's teams, the account a team's own addresses receive as, and
the lint of member emails without an agent account (config/teams.yaml names people the catalog cannot look up)."""
from __future__ import annotations

from peewee import IntegrityError

from engine.catalog import Catalog
from engine.catalog.lint import ConfigWarning
from engine.catalog.teams import Team
from engine.store.models import STAFF_ROLES, TEAM_ROLE, User
from engine.store.prepared import PreparedSelect


def members(catalog: Catalog, team_id: str | None) -> list[User]:
    """The active agent and admin accounts of a team, by email (none for no team or one the config dropped)."""
    return _members(catalog, team_id, _MEMBERS, User)


def staff_accounts() -> list[User]:
    """Every active agent and admin (whom a ticket without a team may be assigned to)."""
    return _STAFF.all()


def assignee_choices(catalog: Catalog, team_id: str | None) -> list[User]:
    """Whom a ticket of `team_id` may be assigned to, as the agent's ticket page offers them: the team's members, or
    every active agent and admin for a ticket without a team or of one the config dropped; id, name and email only."""
    if team_id in catalog.teams:
        return _members(catalog, team_id, _MEMBER_CHOICES, *_CHOICE_COLUMNS)
    return _STAFF_CHOICES.all()


def _members(catalog: Catalog, team_id: str | None, queries: dict, *columns) -> list[User]:
    """A team's active staff accounts (`columns` of them), the query prepared once per list of member emails."""
    team = catalog.teams.get(team_id) if team_id else None
    if team is None or not team.members:
        return []
    emails = tuple(team.members)
    query = queries.get(emails)
    if query is None:  # one per list of members a config had: few
        query = queries.setdefault(emails, PreparedSelect(lambda *markers: _staff(*columns).where(
            User.email.in_(markers)), arity=len(emails)))
    return query.all(*emails)


def _staff(*columns):
    """Active agents and admins (`columns` of them), by name and email."""
    return User.select(*columns).where(User.is_active & User.role.in_(STAFF_ROLES)).order_by(User.name, User.email)


_CHOICE_COLUMNS = (User.id, User.name, User.email)
# a team's member emails -> the query of their accounts (whole / what an assignee choice shows)
_MEMBERS: dict[tuple[str, ...], PreparedSelect] = {}
_MEMBER_CHOICES: dict[tuple[str, ...], PreparedSelect] = {}
_STAFF = PreparedSelect(lambda: _staff(User), arity=0)
_STAFF_CHOICES = PreparedSelect(lambda: _staff(*_CHOICE_COLUMNS), arity=0)


def is_member(catalog: Catalog, team_id: str | None, user: User) -> bool:
    team = catalog.teams.get(team_id) if team_id else None
    return team is not None and user.email.lower() in team.members


def team_ids_of(catalog: Catalog, user: User) -> tuple[str, ...]:
    """The ids of the teams `user` is a member of, in config order."""
    return tuple(t.id for t in catalog.teams_of(user.email))


_BY_EMAIL = PreparedSelect(lambda email: User.select().where(User.email == email), arity=1)


def team_account(team: Team) -> User:
    """The account a team's addresses are notified as (role `team`: no password, no sign-in), made on first use.
    Its email is in the reserved `.invalid` domain, so it never collides with a person's or receives mail itself."""
    email = f"{team.id}@team.invalid"
    found = _BY_EMAIL.first(email)
    if found is not None:
        return found
    try:
        with User._meta.database.atomic():  # a savepoint: a concurrent creator's row wins, this transaction goes on
            return User.create(email=email, role=TEAM_ROLE, name=str(team.title), email_verified_at=None)
    except IntegrityError:
        return User.get(User.email == email)


def unknown_members(catalog: Catalog, root: str = "config") -> list[ConfigWarning]:
    """A warning per member email with no active agent or admin account (the account may be created later)."""
    emails = {m for team in catalog.teams.values() for m in team.members}
    if not emails:
        return []
    staff = {u.email.lower() for u in User.select(User.email).where(
        User.email.in_(list(emails)) & User.is_active & User.role.in_(STAFF_ROLES))}
    return [ConfigWarning(f"{root}/teams.yaml", team.member_lines.get(email, 0), f"teams.{team.id}.members",
                          f"'{email}' has no active agent or admin account: the team's notifications and queue skip it")
            for team in catalog.teams.values() for email in team.members if email not in staff]
