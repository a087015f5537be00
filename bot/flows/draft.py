"""The steps of the flows and the typed draft a flow keeps between them (plain JSON in the person's data)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any

from telegram.ext import ContextTypes, ConversationHandler

from ..turn import current_turn

END = ConversationHandler.END


class State(StrEnum):
    """A step waiting for the person's answer (the values are stored: keep them)."""

    NC_TITLE = "nc_title"
    NC_CURRENCY = "nc_currency"
    NC_ROLE = "nc_role"
    NC_CONFIRM = "nc_confirm"
    AM_PICK = "am_pick"
    AM_FIELD = "am_field"
    AM_SUMMARY = "am_summary"
    AM_TITLE = "am_title"
    AM_AMOUNT = "am_amount"
    AM_DUE = "am_due"
    AM_DESCRIPTION = "am_description"
    SUB_NOTE = "sub_note"
    CHG_REASON = "chg_reason"
    ST_MENU = "st_menu"
    ST_TZ = "st_tz"
    ST_QUIET = "st_quiet"
    # disagreements (bot/flows/disagree.py)
    DG_AMOUNT = "dg_amount"
    DG_DATE = "dg_date"
    DG_TEXT = "dg_text"
    DG_CONFIRM = "dg_confirm"
    ST_PAYOUT = "st_payout"  # a freelancer's payout details (telegram mode), for operators only


Step = State | int | None  # a state, END, or None: stay where the person is


class Flow(StrEnum):
    CONTRACT = "contract"
    ADD = "add"
    EDIT = "edit"
    SUBMIT = "submit"
    CHANGES = "changes"
    DISAGREE = "disagree"  # pay less, bonus, a new due date, a dispute, an offer, a decision


@dataclass
class Draft:
    """What a flow has gathered so far; stored as plain JSON in the person's data between steps."""

    kind: Flow
    contract_id: int | None = None
    milestone_id: int | None = None
    currency: str = ""
    title: str | None = None
    role: str | None = None
    amount: int | None = None
    due: str | None = None  # ISO date
    description: str | None = None
    editing: str | None = None  # the one field being changed from the summary
    original: dict[str, Any] | None = None  # an edited milestone's fields before the edit
    from_chat: int | None = None
    files: list[dict[str, Any]] | None = None  # Submit work: the documents and photos sent so far
    action: str | None = None  # a disagreement flow: the action it ends in (domain.actions.Action)

    @property
    def due_date(self) -> date | None:
        return date.fromisoformat(self.due) if self.due else None


_FIELDS = {f.name for f in fields(Draft)}


def _data(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    """The person's data: read with their step at the start of the update, written with it at the end."""
    turn = current_turn()
    if turn is not None:
        return turn.data
    data = context.user_data
    assert data is not None  # per-user handlers always have user_data
    return data


def load_draft(context: ContextTypes.DEFAULT_TYPE) -> Draft | None:
    raw = _data(context).get("draft")
    if not raw or "kind" not in raw:
        return None
    try:
        return Draft(**{k: v for k, v in raw.items() if k in _FIELDS} | {"kind": Flow(raw["kind"])})
    except (TypeError, ValueError):
        return None


def keep_draft(context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> Draft:
    _data(context)["draft"] = {k: v for k, v in asdict(draft).items() if v is not None}
    return draft


def drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    _data(context).pop("draft", None)


class DraftGone(Exception):
    """The step's draft is missing (stored by an older version, or dropped): the flow starts over."""


def need_draft(context: ContextTypes.DEFAULT_TYPE, *kinds: Flow) -> Draft:
    d = load_draft(context)
    if d is None or (kinds and d.kind not in kinds):
        raise DraftGone
    return d
