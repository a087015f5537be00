"""Files submitted with a milestone (issue 12, point 8): stored as Telegram file ids, in the change's
transaction, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.actions import Action
from domain.errors import InvalidInput, NotAllowed
from domain.model import FILES_PER_SUBMISSION, MilestoneStatus, SubmittedFile
from storage.models import SubmittedFileRow

from .test_storage import CLIENT, FREELANCER, seeded

CAPTION = "Mockups «v2» <b>&</b> 🚀 " + "c" * 900
LONG_ID = "BQACAgIAAxkBAAI" + "x" * 200


def _files(*names: str) -> tuple[SubmittedFile, ...]:
    return tuple(SubmittedFile("document", f"{LONG_ID}{n}", f"u{n}", n, CAPTION, 2**40) for n in names)


async def _count(uow) -> int:
    async with uow() as unit:
        return (await unit.session.execute(select(func.count(SubmittedFileRow.id)))).scalar_one()


async def test_files_are_stored_with_their_submission_and_read_back_exactly(uow, now):
    svc, cid, ids = await seeded(uow, now)
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ids[0])
    photo = SubmittedFile("photo", "AgACAgIAAxkBAAIphoto", "uphoto", "", "", None)
    out = await svc.perform(
        Action.SUBMIT, FREELANCER, now, milestone_id=ids[0], note="first", files=(*_files("a.pdf"), photo)
    )
    assert [f.name for f in out.files] == ["a.pdf", ""]
    await svc.perform(Action.REQUEST_CHANGES, CLIENT, now, milestone_id=ids[0], reason="more")
    later = now + timedelta(hours=1)
    await svc.perform(Action.SUBMIT, FREELANCER, later, milestone_id=ids[0], note="second", files=_files("b.pdf"))

    details = await svc.milestone_details(ids[0], CLIENT)
    assert details.milestone.status is MilestoneStatus.SUBMITTED
    assert [(f.kind, f.file_id, f.file_unique_id, f.name, f.caption, f.size, f.submission) for f in details.files] == [
        ("document", f"{LONG_ID}a.pdf", "ua.pdf", "a.pdf", CAPTION, 2**40, 1),
        ("photo", "AgACAgIAAxkBAAIphoto", "uphoto", "", "", None, 1),
        ("document", f"{LONG_ID}b.pdf", "ub.pdf", "b.pdf", CAPTION, 2**40, 2),
    ]
    assert [f.at for f in details.files] == [now, now, later]
    assert all(f.actor_id == FREELANCER and f.milestone_id == ids[0] and f.id for f in details.files)
    assert [h.action for h in details.history] == [
        "milestone_added",
        "activated",
        "submitted",
        "changes_requested",
        "submitted",
    ]
    assert (await svc.milestone_details(ids[1], FREELANCER)).files == []

    contract, again = await svc.submitted_file(details.files[2].id, FREELANCER)
    assert again == details.files[2] and contract.id == cid
    with pytest.raises(NotAllowed):
        await svc.submitted_file(details.files[2].id, 999)
    with pytest.raises(NotAllowed):
        await svc.milestone_details(ids[0], 999)


async def test_a_refused_submission_stores_no_files(uow, now):
    svc, cid, ids = await seeded(uow, now)
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ids[0])
    too_many = _files(*(f"{i}.pdf" for i in range(FILES_PER_SUBMISSION + 1)))
    with pytest.raises(InvalidInput):
        await svc.perform(Action.SUBMIT, FREELANCER, now, milestone_id=ids[0], note="", files=too_many)
    with pytest.raises(NotAllowed):  # the client can't submit, files or not
        await svc.perform(Action.SUBMIT, CLIENT, now, milestone_id=ids[0], note="", files=_files("x.pdf"))
    assert await _count(uow) == 0
    out = await svc.perform(Action.SUBMIT, FREELANCER, now, milestone_id=ids[0], note="", files=too_many[:-1])
    assert out.milestone.status is MilestoneStatus.SUBMITTED
    assert await _count(uow) == FILES_PER_SUBMISSION
