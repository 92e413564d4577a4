"""An auditor opens a dossier and sees its PDF's first page and its photo as previews."""

from __future__ import annotations

import pytest
from factories import complete_files, file_dossier, jpeg
from support import screenshot_folder, sign_in_page

pytestmark = pytest.mark.browser


def test_the_dossier_page_shows_document_previews(page, live_server, api, tmp_path):
    files = [*complete_files(), ("customer_acceptance", "验收照片.jpg", jpeg(9))]
    dossier = file_dossier(api, files=files).json
    sign_in_page(page, live_server, "auditor")
    page.goto(f"{live_server}/dossiers/{dossier['id']}")
    images = page.locator("section.previews img")
    assert images.count() == 3  # two PDFs and the photo; the DOCX files have none
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()  # loading="lazy": drawn when it comes into view
        page.wait_for_function("image => image.complete && image.naturalWidth > 0",
                               arg=image.element_handle())  # fmt: skip
    page.screenshot(path=str(screenshot_folder(tmp_path) / "previews.png"), full_page=True)
