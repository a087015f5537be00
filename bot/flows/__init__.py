"""Guided conversations, one module per flow; `build_conversation` joins them into one handler."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from domain.actions import Action

from ..callbacks import NewContract, Pick, PickerPage, choice, is_a, presses
from ..handlers import private_only
from . import disagree, milestone_form, new_contract, settings, work
from .base import PRIVATE_NOT_TEXT, PRIVATE_TEXT, cancel, not_text, use_buttons
from .conversation import Conversation
from .draft import State


def build_conversation() -> Conversation:
    text: BaseHandler[Update, Any, Any] = MessageHandler(PRIVATE_TEXT, use_buttons)
    S = State
    # Keyed by person: a button pressed in a group continues in the private chat.
    return Conversation(
        allow_reentry=True,
        entry_points=[
            CommandHandler("newcontract", private_only(new_contract.start)),
            CallbackQueryHandler(new_contract.start, pattern=is_a(NewContract)),
            CommandHandler("addmilestone", private_only(milestone_form.add_command)),
            CallbackQueryHandler(milestone_form.add_from_card, pattern=presses(Action.ADD_MILESTONE)),
            CallbackQueryHandler(milestone_form.edit_from_card, pattern=presses(Action.EDIT)),
            CallbackQueryHandler(work.pressed, pattern=presses(Action.SUBMIT, Action.REQUEST_CHANGES)),
            CommandHandler("settings", private_only(settings.show)),
            CallbackQueryHandler(disagree.pressed, pattern=presses(*disagree.FLOW_ACTIONS)),
        ],
        states={
            S.NC_TITLE: [MessageHandler(PRIVATE_TEXT, new_contract.got_title)],
            S.NC_CURRENCY: [
                CallbackQueryHandler(new_contract.got_currency, pattern=choice("cur")),
                MessageHandler(PRIVATE_TEXT, new_contract.got_currency),
            ],
            S.NC_ROLE: [CallbackQueryHandler(new_contract.got_role, pattern=choice("role")), text],
            S.NC_CONFIRM: [CallbackQueryHandler(new_contract.create, pattern=choice("nc", "create")), text],
            S.AM_PICK: [
                CallbackQueryHandler(milestone_form.pick_contract, pattern=is_a(Pick)),
                CallbackQueryHandler(milestone_form.pick_page, pattern=is_a(PickerPage, purpose="add")),
                text,
            ],
            S.AM_TITLE: [MessageHandler(PRIVATE_TEXT, milestone_form.got_title)],
            S.AM_AMOUNT: [MessageHandler(PRIVATE_TEXT, milestone_form.got_amount)],
            S.AM_DUE: [MessageHandler(PRIVATE_TEXT, milestone_form.got_due)],
            S.AM_DESCRIPTION: [
                MessageHandler(PRIVATE_TEXT, milestone_form.got_description),
                CallbackQueryHandler(milestone_form.got_description, pattern=choice("am", "skip")),
            ],
            S.AM_FIELD: [CallbackQueryHandler(milestone_form.choose_field, pattern=choice("am", prefix="f:")), text],
            S.AM_SUMMARY: [
                CallbackQueryHandler(milestone_form.save, pattern=choice("am", "save")),
                CallbackQueryHandler(milestone_form.edit_summary, pattern=choice("am", "edit")),
                text,
            ],
            S.SUB_NOTE: [
                MessageHandler(filters.ChatType.PRIVATE & (filters.Document.ALL | filters.PHOTO), work.got_file),
                MessageHandler(PRIVATE_TEXT, work.got_note),
                CallbackQueryHandler(work.got_note, pattern=choice("sub", "skip")),
            ],
            S.CHG_REASON: [MessageHandler(PRIVATE_TEXT, work.got_reason)],
            S.ST_MENU: [
                CallbackQueryHandler(settings.zone_button, pattern=choice("tz")),
                CallbackQueryHandler(settings.ask_zone, pattern=choice("st", "tz")),
                CallbackQueryHandler(settings.ask_quiet, pattern=choice("st", "quiet")),
                CallbackQueryHandler(settings.done, pattern=choice("st", "done")),
                CallbackQueryHandler(settings.ask_payout, pattern=choice("st", "payout")),
                CallbackQueryHandler(settings.ask_language, pattern=choice("st", "lang")),
                CallbackQueryHandler(settings.language_button, pattern=choice("lang")),
                CallbackQueryHandler(settings.show, pattern=choice("st", "back")),
                MessageHandler(PRIVATE_TEXT, settings.got_zone),
            ],
            S.DG_AMOUNT: [MessageHandler(PRIVATE_TEXT, disagree.got_amount)],
            S.DG_DATE: [MessageHandler(PRIVATE_TEXT, disagree.got_date)],
            S.DG_TEXT: [
                MessageHandler(PRIVATE_TEXT, disagree.got_text),
                CallbackQueryHandler(disagree.got_text, pattern=choice("dg", "skip")),
            ],
            S.DG_CONFIRM: [CallbackQueryHandler(disagree.confirmed, pattern=choice("dg", "ok")), text],
            S.ST_TZ: [MessageHandler(PRIVATE_TEXT, settings.got_zone)],
            S.ST_QUIET: [MessageHandler(PRIVATE_TEXT, settings.got_quiet)],
            S.ST_PAYOUT: [MessageHandler(PRIVATE_TEXT, settings.got_payout)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(
                cancel,
                pattern=lambda data: (
                    choice("am", "cancel")(data) or choice("nc", "cancel")(data) or choice("dg", "cancel")(data)
                ),
            ),
            MessageHandler(PRIVATE_NOT_TEXT, not_text),  # a photo at a text step: say so, the step stays
        ],
    )
