"""What one submission may carry (issue 12, point 8): documents and photos as Telegram file ids, at most
FILES_PER_SUBMISSION, numbered by the submission they came with; a refused one changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.actions import Action
from domain.errors import InvalidInput
from domain.model import FILES_PER_SUBMISSION, MilestoneStatus, SubmittedFile, check_files

from .helpers import CLIENT, FREELANCER, NOW, active_contract, add, snapshot

names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=255)
files = st.builds(
    SubmittedFile,
    kind=st.sampled_from(["document", "photo"]),
    file_id=st.from_regex(r"[A-Za-z0-9_-]{1,255}", fullmatch=True),
    name=names,
    caption=st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=1024),
)


def funded():
    c = active_contract()
    ms = add(c, "Design")
    c.activate(CLIENT, ms.id, NOW)
    return c, ms


@given(st.lists(files, max_size=FILES_PER_SUBMISSION))
def test_up_to_the_limit_every_file_is_kept_in_order_with_its_submission(sent):
    c, ms = funded()
    c.submit(FREELANCER, ms.id, "", NOW, tuple(sent))
    assert [(f.file_id, f.name, f.caption) for f in c.new_files] == [(f.file_id, f.name, f.caption) for f in sent]
    assert all(f.submission == 1 and f.milestone_id == ms.id and f.actor_id == FREELANCER for f in c.new_files)


@given(st.lists(files, min_size=FILES_PER_SUBMISSION + 1, max_size=FILES_PER_SUBMISSION + 5))
def test_over_the_limit_nothing_changes(sent):
    c, ms = funded()
    before = snapshot(c)
    with pytest.raises(InvalidInput):
        c.submit(FREELANCER, ms.id, "note", NOW, tuple(sent))
    assert snapshot(c) == before and c.new_files == []


def test_a_resubmission_numbers_its_files_as_the_next_submission():
    c, ms = funded()
    c.submit(FREELANCER, ms.id, "", NOW, (SubmittedFile("document", "a"),))
    c.request_changes(CLIENT, ms.id, "more", NOW)
    c.submit(FREELANCER, ms.id, "", NOW, (SubmittedFile("photo", "b"),))
    assert [(f.file_id, f.submission) for f in c.new_files] == [("a", 1), ("b", 2)]
    assert ms.status is MilestoneStatus.SUBMITTED


@pytest.mark.parametrize(
    "bad",
    [
        SubmittedFile("video", "v"),
        SubmittedFile("document", ""),
        SubmittedFile("document", "x" * 256),
        SubmittedFile("document", "a\x00b"),
        SubmittedFile("document", "ok", name="n" * 256),
        SubmittedFile("photo", "ok", caption="c" * 1025),
        SubmittedFile("photo", "ok", caption="bell\x07"),
    ],
)
def test_what_is_not_a_document_or_photo_within_limits_is_refused(bad):
    with pytest.raises(InvalidInput):
        check_files([bad])


def test_only_the_freelancer_submits_files():
    c, ms = funded()
    assert c.refusal(Action.SUBMIT, CLIENT, ms) is not None
