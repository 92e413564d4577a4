"""The records manager's journey: hold, run, release, run again and confirm, read the
certificate page, download its PDF, open a destroyed dossier's tombstone."""

from __future__ import annotations

import uuid

import pytest
from factories import complaint_no, file_dossier, metadata
from support import screenshot_folder, sign_in_page, submit

pytestmark = pytest.mark.browser


def test_records_manager_journey(page, live_server, api, tmp_path):
    meta = metadata(
        complaint_no=complaint_no("III", 2019),
        complaint_class="III",
        received_on="2019-02-01",
        closed_on="2019-03-01",
        products=[{"name": "维生素C泡腾片", "batch_no": "VC1901", "expiry": "2019-05"}],
    )
    dossier = file_dossier(api, meta).json
    number = dossier["complaint_no"]
    batch = f"VC19{uuid.uuid4().hex[:6].upper()}"
    by_batch = file_dossier(api, dict(
        meta, complaint_no=complaint_no("III", 2019),
        products=[{"name": "维生素C泡腾片", "batch_no": batch, "expiry": "2019-05"}])).json[
        "complaint_no"]  # fmt: skip

    sign_in_page(page, live_server, "records", locale="en")
    submit(page, "nav >> text=Retention")
    page.fill("form.hold input[name=value]", number)
    page.fill("form.hold input[name=reason]", "litigation pending")
    submit(page, "form.hold button")
    assert "litigation pending" in page.content()
    page.select_option("form.hold select[name=scope]", "batch_no")
    page.fill("form.hold input[name=value]", batch)
    page.fill("form.hold input[name=reason]", "regulator inquiry")
    submit(page, "form.hold button")
    assert f"batch {batch}" in page.text_content("table.holds")

    page.fill("form.run input[name=as_of]", "2021-01-01")
    page.uncheck("form.run input[name=dry_run]")
    submit(page, "form.run button")
    if page.locator("form.confirm").count():  # other tests' dossiers due too: destroy those
        assert number not in page.text_content("table.to-destroy")
        # Whether other tests' dossiers are due depends on which ran before in this
        # process (under pytest-xdist, others): the confirmation names what the holds keep,
        # and so does the confirmed run's message.
        held = page.text_content("p.held")
        assert number in held and by_batch in held
        submit(page, "form.confirm button")
    kept = page.text_content("#retention-message").split("Kept under hold:")
    assert len(kept) == 2 and number in kept[1] and by_batch in kept[1]

    for held in (number, batch):
        row = page.locator("table.holds tr", has_text=held)
        row.locator("input[name=reason]").fill("closed")
        with page.expect_navigation():
            row.locator("button").click()
    page.fill("form.run input[name=as_of]", "2021-01-01")
    page.uncheck("form.run input[name=dry_run]")
    submit(page, "form.run button")
    # The confirmation step: how many, which; nothing is destroyed before "confirm".
    count = page.text_content("#confirm-count")
    listed = page.text_content("table.to-destroy")
    assert "will be destroyed as of 2021-01-01" in count
    assert number in listed and by_batch in listed
    shown = page.locator("table.to-destroy tbody tr").count()
    assert f"Confirm: destroy {shown} dossier(s)" in page.text_content("form.confirm button")
    page.screenshot(path=str(screenshot_folder(tmp_path) / "retention-confirm.png"), full_page=True)
    submit(page, "form.confirm button")
    destroyed = page.text_content("#retention-message").split("Kept under hold:")[0]
    assert "Destroyed" in destroyed and number in destroyed and by_batch in destroyed
    page.screenshot(path=str(screenshot_folder(tmp_path) / "retention.png"), full_page=True)

    submit(page, "#retention-message a.certificate")
    assert "Signature verified" in page.text_content("#certificate-signature")
    assert number in page.text_content("table.records")
    page.screenshot(path=str(screenshot_folder(tmp_path) / "certificate.png"), full_page=True)
    with page.expect_download() as download_info:
        page.locator("a.pdf").first.click()
    saved = tmp_path / "certificate.pdf"
    download_info.value.save_as(str(saved))
    assert saved.read_bytes().startswith(b"%PDF")

    with page.expect_navigation() as tombstone:
        page.click(f"table.records a:text('{number}')")
    assert tombstone.value.status == 410
    assert "destroyed under the retention rules" in page.text_content("main")
    assert "Asia/Shanghai" in page.text_content("#destroyed-at")
    submit(page, "a.certificate")  # back to its certificate
    assert number in page.text_content("table.records")
