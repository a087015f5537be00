"""Inline keyboards: the buttons the domain allows this viewer now, as the action table draws them."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup

from domain.actions import Action, Allowed
from domain.model import Contract, Milestone, Role
from domain.moves import move_after

from .actions import ACTIONS, said
from .callbacks import (
    ContractList,
    Details,
    DetailsList,
    History,
    NewContract,
    OpenCard,
    Press,
    Refresh,
    SendFile,
    View,
)
from .i18n import _, isolate
from .texts import CARD_PAGE_SIZE, DetailsPage, card_milestones, card_page_of, card_pages, short


def action_button(
    action: Action, target_id: int, title: str = "", role: Role | None = None, confirmed: bool = False
) -> Btn:
    """A button of the action table, in the language spoken now; `title` is the milestone's, for the label
    (isolated in a right-to-left language, as a person's own text)."""
    view = ACTIONS[action]
    label = said(view.confirm_label if confirmed else view.label).format(
        t=isolate(short(title)),
        t20=isolate(short(title, 20)),
        as_proposal=_(" (proposal)") if role is Role.FREELANCER else "",
    )
    return Btn(label, callback_data=Press(action, target_id, confirmed).encode())


def allowed_for(contract: Contract, role: Role | None) -> list[Allowed]:
    """What the viewer may do; a group (role None) sees what either party may do there."""
    if role is not None:
        return contract.allowed_actions(contract.party_id(role))
    both = contract.allowed_actions(contract.client_id) + contract.allowed_actions(contract.freelancer_id)
    return [a for a in both if ACTIONS[a.action].in_group]


def action_rows(
    contract: Contract,
    allowed: list[Allowed],
    role: Role | None,
    *,
    card: bool,
    page_ids: set[int] | None = None,
    only: Milestone | None = None,
) -> list[list[Btn]]:
    """Buttons in the table's order; those sharing a row (and milestone) on one line. Off the person's
    own card (news, a group) only the primary ones."""
    present = {a.action for a in allowed}
    by_action: dict[Action, list[Allowed]] = {}
    for a in allowed:
        by_action.setdefault(a.action, []).append(a)
    rows: dict[tuple[str, int | None] | tuple[Action, int | None], list[Btn]] = {}
    for action, view in ACTIONS.items():
        if not card and (not view.primary or (view.only_beside and view.only_beside not in present)):
            continue
        for a in by_action.get(action, []):
            ms = a.milestone
            if only is not None and (ms is None or ms.id != only.id):
                continue
            if view.paged and page_ids is not None and (ms is None or ms.id not in page_ids):
                continue
            target = ms.id if ms is not None else contract.id
            assert target is not None
            key = (view.row or action, ms.id if ms is not None else None)
            rows.setdefault(key, []).append(action_button(action, target, ms.title if ms else "", role))
    return list(rows.values())


def card_keyboard(contract: Contract, role: Role | None, page: int = 0) -> InlineKeyboardMarkup:
    cid = contract.id
    assert cid is not None
    listed = card_milestones(contract)[page * CARD_PAGE_SIZE : (page + 1) * CARD_PAGE_SIZE]
    rows = action_rows(
        contract,
        allowed_for(contract, role),
        role,
        card=role is not None,
        page_ids={ms.id for _, ms in listed if ms.id is not None},
    )
    pages = card_pages(contract)
    nav = [
        Btn(_("History"), callback_data=History(cid).encode()),
        Btn(_("Refresh"), callback_data=Refresh(cid, page).encode()),
    ]
    if listed:  # each milestone's description, notes, files and history, one tap away
        nav.insert(0, Btn(_("Details"), callback_data=DetailsList(cid, page).encode()))
    if pages > 1:
        if page > 0:
            nav.insert(0, Btn("◀", callback_data=View(cid, page - 1).encode()))
        if page < pages - 1:
            nav.append(Btn("▶", callback_data=View(cid, page + 1).encode()))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


def notification_keyboard(
    contract: Contract, role: Role | None, about: Milestone | None = None
) -> InlineKeyboardMarkup:
    """News carries the buttons of the step the change leads to (domain/moves.py: the milestone it is about,
    or what follows once that one is released or refunded), as far as this viewer may use them, and
    Open contract."""
    assert contract.id is not None
    move = move_after(contract, contract.party_id(role) if role is not None else None, about)
    wanted = {(a, move.milestone.id if move.milestone else None) for a in move.actions} if move else set()
    allowed = [a for a in allowed_for(contract, role) if (a.action, a.milestone.id if a.milestone else None) in wanted]
    rows = action_rows(contract, allowed, role, card=False)
    rows.append([Btn(_("Open contract"), callback_data=OpenCard(contract.id).encode())])
    return InlineKeyboardMarkup(rows)


def confirm_keyboard(
    contract: Contract, action: Action, target_id: int, ms: Milestone | None = None
) -> InlineKeyboardMarkup:
    assert contract.id is not None
    return InlineKeyboardMarkup(
        [
            [action_button(action, target_id, ms.title if ms else "", confirmed=True)],
            [Btn(_("Back"), callback_data=View(contract.id).encode())],
        ]
    )


def history_keyboard(contract: Contract, page: int, pages: int) -> InlineKeyboardMarkup:
    assert contract.id is not None
    nav = []
    if page > 0:
        nav.append(Btn("◀", callback_data=History(contract.id, page - 1).encode()))
    if page < pages - 1:
        nav.append(Btn("▶", callback_data=History(contract.id, page + 1).encode()))
    rows = [nav] if nav else []
    rows.append([Btn(_("Back to contract"), callback_data=View(contract.id).encode())])
    return InlineKeyboardMarkup(rows)


PICK_PAGE_SIZE = 10


def choose_contract_keyboard(items: list[tuple[int, str]], button, page: int = 0, nav=None) -> InlineKeyboardMarkup:
    """One button per contract, PICK_PAGE_SIZE a page, with ◀ ▶. `button(contract id)` and `nav(page)`
    give the callbacks."""
    pages = max(1, -(-len(items) // PICK_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PICK_PAGE_SIZE : (page + 1) * PICK_PAGE_SIZE]
    rows = [[Btn(short(title, 40), callback_data=button(cid).encode())] for cid, title in shown]
    arrows = []
    if nav is not None and page > 0:
        arrows.append(Btn("◀", callback_data=nav(page - 1).encode()))
    if nav is not None and page < pages - 1:
        arrows.append(Btn("▶", callback_data=nav(page + 1).encode()))
    if arrows:
        rows.append(arrows)
    return InlineKeyboardMarkup(rows)


def new_contract_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Btn(_("New contract"), callback_data=NewContract().encode())]])


def start_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                Btn(_("New contract"), callback_data=NewContract().encode()),
                Btn(_("My contracts"), callback_data=ContractList().encode()),
            ]
        ]
    )


def details_list_keyboard(contract: Contract, page: int) -> InlineKeyboardMarkup:
    """The milestones of the card's page, numbered as the card numbers them, and the way back."""
    assert contract.id is not None
    listed = card_milestones(contract)[page * CARD_PAGE_SIZE : (page + 1) * CARD_PAGE_SIZE]
    rows = [
        [Btn(f"{num}{'.' if num.isdigit() else ''} {short(ms.title, 40)}", callback_data=Details(ms.id).encode())]
        for num, ms in listed
        if ms.id is not None
    ]
    rows.append([Btn(_("Back to contract"), callback_data=View(contract.id, page).encode())])
    return InlineKeyboardMarkup(rows)


def details_keyboard(contract: Contract, ms: Milestone, shown: DetailsPage) -> InlineKeyboardMarkup:
    """A button per file listed on this page (sends it again), ◀ ▶ between pages, Back to contract."""
    assert contract.id is not None and ms.id is not None
    files = [Btn(label, callback_data=SendFile(file_id).encode()) for file_id, label in shown.files]
    rows = [files[i : i + 2] for i in range(0, len(files), 2)]
    nav = []
    if shown.page > 0:
        nav.append(Btn("◀", callback_data=Details(ms.id, shown.page - 1).encode()))
    if shown.page < shown.pages - 1:
        nav.append(Btn("▶", callback_data=Details(ms.id, shown.page + 1).encode()))
    if nav:
        rows.append(nav)
    rows.append([Btn(_("Back to contract"), callback_data=View(contract.id, card_page_of(contract, ms)).encode())])
    return InlineKeyboardMarkup(rows)
