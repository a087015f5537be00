"""Inline keyboards: only the buttons a viewer may use now; compact callback data (<= 64 bytes)."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup

from domain.model import Contract, ContractStatus, Milestone, MilestoneStatus, Role

from .texts import CARD_PAGE_SIZE, card_milestones, card_pages, short

# Milestone buttons: callback "m:<code>:<milestone id>"; the role that may press each one.
MS_ROLE: dict[str, Role] = {
    "act": Role.CLIENT, "sub": Role.FREELANCER, "apr": Role.CLIENT, "chg": Role.CLIENT,
    "rfd": Role.FREELANCER, "rrq": Role.CLIENT, "rya": Role.FREELANCER, "ryn": Role.FREELANCER,
    "acc": Role.CLIENT, "rej": Role.CLIENT, "edt": Role.CLIENT, "del": Role.CLIENT,
}


def ms_button(label: str, code: str, ms: Milestone) -> Btn:
    return Btn(label, callback_data=f"m:{code}:{ms.id}")


def primary_buttons(contract: Contract, role: Role | None, only: Milestone | None = None) -> list[list[Btn]]:
    """The state-changing buttons of this moment; role None (a group) gets both parties' buttons."""
    if contract.status is not ContractStatus.ACTIVE:
        return []
    roles = [role] if role else [Role.CLIENT, Role.FREELANCER]
    rows: list[list[Btn]] = []
    funded = contract.funded_milestone()
    nxt = contract.next_to_activate()

    def wanted(ms: Milestone | None) -> bool:
        return ms is not None and (only is None or ms.id == only.id)

    if Role.CLIENT in roles:
        if funded is None and wanted(nxt):
            rows.append([ms_button(f"Activate & fund «{short(nxt.title)}»", "act", nxt)])
        if wanted(funded) and funded.status is MilestoneStatus.SUBMITTED:
            rows.append([ms_button(f"Approve & release «{short(funded.title)}»", "apr", funded)])
            rows.append([ms_button("Request changes", "chg", funded)])
        if wanted(funded) and funded.refund_requested_at is None and role is Role.CLIENT:
            rows.append([ms_button(f"Request refund of «{short(funded.title)}»", "rrq", funded)])
        for p in contract.proposals():
            if wanted(p):
                rows.append([ms_button(f"Accept proposal «{short(p.title)}»", "acc", p),
                             ms_button("Reject", "rej", p)])
    if Role.FREELANCER in roles and wanted(funded):
        if funded.status is MilestoneStatus.ACTIVE:
            rows.append([ms_button(f"Submit work «{short(funded.title)}»", "sub", funded)])
        if funded.refund_requested_at is not None:
            rows.append([ms_button("Accept refund", "rya", funded), ms_button("Decline refund", "ryn", funded)])
        elif role is Role.FREELANCER:
            rows.append([ms_button(f"Refund «{short(funded.title)}»", "rfd", funded)])
    if Role.CLIENT in roles and only is None and contract.awaiting_close_decision():
        rows.append([Btn("Keep contract open", callback_data=f"c:keep:{contract.id}"),
                     Btn("End contract", callback_data=f"c:end:{contract.id}")])
    return rows


def card_keyboard(contract: Contract, role: Role | None, page: int = 0) -> InlineKeyboardMarkup:
    rows = primary_buttons(contract, role)
    cid = contract.id
    if contract.status is ContractStatus.PENDING and role is not None:
        rows.append([Btn("New invite link", callback_data=f"c:invl:{cid}")])
    if contract.status is ContractStatus.ACTIVE and role is not None:
        if role is Role.CLIENT:
            listed = card_milestones(contract)[page * CARD_PAGE_SIZE:(page + 1) * CARD_PAGE_SIZE]
            for _, ms in listed:
                if ms.status is MilestoneStatus.NOT_FUNDED:
                    rows.append([ms_button(f"Edit «{short(ms.title, 20)}»", "edt", ms),
                                 ms_button("Delete", "del", ms)])
        rows.append([Btn("Add milestone" if role is Role.CLIENT else "Add milestone (proposal)",
                         callback_data=f"c:add:{cid}")])
        if role is Role.CLIENT and contract.funded_milestone() is None and not contract.awaiting_close_decision():
            rows.append([Btn("End contract", callback_data=f"c:end:{cid}")])
    pages = card_pages(contract)
    nav = [Btn("History", callback_data=f"c:hist:{cid}:0"), Btn("Refresh", callback_data=f"c:view:{cid}:{page}")]
    if pages > 1:
        if page > 0:
            nav.insert(0, Btn("◀", callback_data=f"c:view:{cid}:{page - 1}"))
        if page < pages - 1:
            nav.append(Btn("▶", callback_data=f"c:view:{cid}:{page + 1}"))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


def notification_keyboard(contract: Contract, role: Role | None) -> InlineKeyboardMarkup:
    rows = primary_buttons(contract, role)
    rows.append([Btn("Open contract", callback_data=f"c:view:{contract.id}:0")])
    return InlineKeyboardMarkup(rows)


def end_confirm_keyboard(contract: Contract) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [Btn("End contract now", callback_data=f"c:endy:{contract.id}")],
        [Btn("Back", callback_data=f"c:view:{contract.id}:0")],
    ])


def history_keyboard(contract: Contract, page: int, pages: int) -> InlineKeyboardMarkup:
    nav = []
    if page > 0:
        nav.append(Btn("◀", callback_data=f"c:hist:{contract.id}:{page - 1}"))
    if page < pages - 1:
        nav.append(Btn("▶", callback_data=f"c:hist:{contract.id}:{page + 1}"))
    rows = [nav] if nav else []
    rows.append([Btn("Back to contract", callback_data=f"c:view:{contract.id}:0")])
    return InlineKeyboardMarkup(rows)


PICK_PAGE_SIZE = 10


def choose_contract_keyboard(items: list[tuple[int, str]], prefix: str, page: int = 0,
                             nav_prefix: str | None = None) -> InlineKeyboardMarkup:
    """One button per contract, PICK_PAGE_SIZE a page, with ◀ ▶ (callback "<nav_prefix>:<page>")."""
    pages = max(1, -(-len(items) // PICK_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PICK_PAGE_SIZE:(page + 1) * PICK_PAGE_SIZE]
    rows = [[Btn(short(title, 40), callback_data=f"{prefix}:{cid}")] for cid, title in shown]
    nav = []
    if nav_prefix and page > 0:
        nav.append(Btn("◀", callback_data=f"{nav_prefix}:{page - 1}"))
    if nav_prefix and page < pages - 1:
        nav.append(Btn("▶", callback_data=f"{nav_prefix}:{page + 1}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def start_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[Btn("New contract", callback_data="c:new"),
                                  Btn("My contracts", callback_data="c:list")]])
