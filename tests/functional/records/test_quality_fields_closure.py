"""The §5.8 rule for a `no_feedback` closure at its edges, in mainland China's working days:
the reminder no earlier than 25 working days after the reply, the closing no earlier than 10
after the reminder; a year the calendar does not know is refused (422), never guessed."""

from __future__ import annotations

import pytest
from factories import complaint_no, file_dossier, metadata
from support import assert_error


def closing(received, replied, reminded, closed, **timeline):
    year = int(received[:4])
    return metadata(
        complaint_no=complaint_no("I", year),
        received_on=received,
        closed_on=closed,
        timeline={
            "replied_on": replied,
            "reminded_on": reminded,
            "closure": "no_feedback",
            "closure_approved_by": "王质量",
            **timeline,
        },
    )


def filed(api, meta) -> dict:
    return file_dossier(api, meta).json


def refused(api, meta, field: str) -> dict:
    response = file_dossier(api, meta, status=422)
    assert_error(response, 422, "invalid", field)
    return response.json


def test_a_make_up_saturday_counts_as_a_working_day(api):
    # From Monday 1 September 2025 the 25th working day is Saturday 11 October, a 调休
    # working day for National Day; Friday 10 October is only the 24th.
    body = filed(api, closing("2025-08-25", "2025-09-01", "2025-10-11", "2025-10-24"))
    assert body["timeline"]["reminded_on"] == "2025-10-11"
    refused(api, closing("2025-08-25", "2025-09-01", "2025-10-10", "2025-10-24"),
            "timeline.reminded_on")  # fmt: skip
    # Ten working days after the Saturday: Friday 24 October, not Thursday 23.
    refused(api, closing("2025-08-25", "2025-09-01", "2025-10-11", "2025-10-23"), "closed_on")


def test_national_day_week_does_not_count(api):
    # Reminded Friday 26 September 2025: 28 (调休 Sunday), 29, 30 September, then 9, 10,
    # 11 (调休 Saturday), 13, 14, 15, 16 October. Ten weekdays would end on 10 October.
    filed(api, closing("2025-08-11", "2025-08-18", "2025-09-26", "2025-10-16"))
    refused(api, closing("2025-08-11", "2025-08-18", "2025-09-26", "2025-10-15"), "closed_on")
    body = refused(api, closing("2025-08-11", "2025-08-18", "2025-09-26", "2025-10-10"),
                   "closed_on")  # fmt: skip
    assert "10 working days" in body["detail"]


def test_new_year_across_years(api):
    # From Monday 1 December 2025, 1 January 2026 and the New Year days off are skipped:
    # the 25th working day is Tuesday 6 January; 10 more end on Tuesday 20 January.
    filed(api, closing("2025-11-25", "2025-12-01", "2026-01-06", "2026-01-20"))
    refused(api, closing("2025-11-25", "2025-12-01", "2026-01-05", "2026-01-20"),
            "timeline.reminded_on")  # fmt: skip
    refused(api, closing("2025-11-25", "2025-12-01", "2026-01-06", "2026-01-19"), "closed_on")


def test_a_year_the_calendar_does_not_know_is_refused_not_guessed(api):
    body = refused(api, closing("2099-03-02", "2099-03-09", "2099-04-20", "2099-05-11"),
                   "timeline.reminded_on")  # fmt: skip
    assert "2099" in body["detail"] and "does not know" in body["detail"]


def test_a_no_feedback_closure_needs_a_reminder_and_a_reply(api):
    refused(api, closing("2025-08-25", "2025-09-01", None, "2025-10-24"), "timeline.reminded_on")
    refused(api, closing("2025-08-25", None, None, "2025-10-24"), "timeline.replied_on")


@pytest.mark.parametrize("closure", ["customer_satisfied", None])
def test_other_closures_are_not_held_to_the_rule(api, closure):
    # A reminder a week after the reply is fine when the customer answered.
    meta = closing("2025-08-25", "2025-09-01", "2025-09-08", "2025-09-10", closure=closure)
    assert filed(api, meta)["timeline"]["closure"] == closure


def test_the_rule_is_explained_on_the_filing_form_in_chinese(api):
    from factories import docx, filled_form, pdf

    browser = api.browser("archivist")
    browser.get("/?_LOCALE_=zh_CN")
    form = filled_form(browser, complaint_no("III", 2022), "无反馈结案过早", "BLG220910")
    form["closure"] = "no_feedback"
    form["replied_on"], form["reminded_on"] = "2022-08-02", "2022-08-10"
    form.set("upload", ("登记表.pdf", pdf("登记表")), index=0)
    form.set("upload", ("处理单.docx", docx("处理单")), index=1)
    response = form.submit("file", status=422)
    assert "25 个工作日" in response.text
