"""An archivist signs in, files a dossier with real files through the form, downloads one back."""

from __future__ import annotations

import hashlib

import pytest
from factories import complaint_no, docx, file_dossier, jpeg, metadata, pdf
from support import screenshot_folder, submit
from support import sign_in_page as sign_in

pytestmark = pytest.mark.browser


def test_login_page_is_chinese_by_default_with_english_switch(page, live_server):
    page.goto(f"{live_server}/login")
    assert "登录" in page.content()
    submit(page, "text=English")
    assert "Sign in" in page.content()
    page.goto(f"{live_server}/login")  # the choice is remembered
    assert "Sign in" in page.content()


def test_wrong_password_is_refused(page, live_server, users):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "archivist")
    page.fill("input[name=password]", "wrong-password-1")
    submit(page, "form.login button[type=submit]")
    assert "用户名或密码错误" in page.content()


def test_file_a_dossier_through_the_form_and_download_it_back(page, live_server, tmp_path):
    sign_in(page, live_server, "archivist")
    page.screenshot(path=str(screenshot_folder(tmp_path) / "home.png"), full_page=True)
    submit(page, "text=归档已结案的投诉档案")
    page.wait_for_selector("form#filing")

    number = complaint_no("II", 2024)
    page.fill("input[name=complaint_no]", number)
    page.select_option("select[name=complaint_class]", "II")
    page.select_option("select[name=complaint_type]", "outer_packaging")
    page.fill("input[name=title]", "头孢克肟分散片外包装破损投诉")
    page.fill("input[name=received_on]", "2024-03-05")
    page.fill("input[name=closed_on]", "2024-04-10")
    page.select_option("select[name=channel]", "email")
    page.fill("input[name=department]", "储运部")
    page.get_by_role("textbox", name="姓名").fill("李四")
    page.fill("input[name=organization]", "康宁诊所")
    page.fill("input[name=phone]", "13987654321")
    page.get_by_role("textbox", name="产品名称").fill("头孢克肟分散片")
    page.fill("input[name=batch_no]", "CF2401088")
    page.fill("input[name=expiry]", "2026-01")
    page.select_option("select[name=outcome]", "justified")
    page.check("input[type=checkbox][value=compensation]")
    page.select_option("select[name=confidentiality]", "confidential")

    files = {
        "registration_form": ("登记表.pdf", pdf("投诉客户信息登记表")),
        "handling_sheet": ("处理单.docx", docx("客户质量投诉处理单")),
        "investigation_report": ("调查报告.pdf", pdf("调查报告")),
        "reply_report": ("答复报告.docx", docx("答复报告")),
        "customer_acceptance": ("验收照片.jpg", jpeg(7)),
    }
    inputs = page.locator("input[type=file]")
    for index, (filename, content) in enumerate(files.values()):
        path = tmp_path / filename
        path.write_bytes(content)
        inputs.nth(index).set_input_files(str(path))
    page.screenshot(path=str(screenshot_folder(tmp_path) / "filing-form.png"), full_page=True)
    submit(page, "button[name=file]")
    page.wait_for_url(f"{live_server}/dossiers/*")
    content = page.content()
    assert number in content and "头孢克肟分散片" in content and "CF2401088" in content
    assert "13987654321" in content  # archivists see personal data unmasked
    page.screenshot(path=str(screenshot_folder(tmp_path) / "dossier.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("a.download >> text=调查报告.pdf")
    download = download_info.value
    saved = tmp_path / "downloaded.pdf"
    download.save_as(str(saved))
    assert download.suggested_filename == "调查报告.pdf"
    expected = files["investigation_report"][1]
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(expected).hexdigest()


def test_auditor_sees_masked_data_and_no_filing_link(page, live_server, tokens):
    sign_in(page, live_server, "auditor")
    assert "归档已结案的投诉档案" not in page.content()
    page.goto(f"{live_server}/dossiers/new")
    assert "403" in page.content()


def fill_unjustified_filing(page, number: str, closed_on: str) -> None:
    page.fill("input[name=complaint_no]", number)
    page.select_option("select[name=complaint_class]", "III")
    page.select_option("select[name=complaint_type]", "service")
    page.fill("input[name=title]", "送货延误投诉")
    page.fill("input[name=received_on]", "2022-08-01")
    page.fill("input[name=closed_on]", closed_on)
    page.select_option("select[name=channel]", "visit")
    page.get_by_role("textbox", name="姓名").fill("王五")
    page.get_by_role("textbox", name="产品名称").fill("板蓝根颗粒")
    page.fill("input[name=batch_no]", "BLG2208")
    page.select_option("select[name=outcome]", "not_established")
    page.select_option("select[name=confidentiality]", "internal")


def test_a_refused_filing_keeps_the_files_and_the_fixed_one_files_them(page, live_server,
                                                                       tmp_path):  # fmt: skip
    sign_in(page, live_server, "archivist")
    page.goto(f"{live_server}/dossiers/new")
    number = complaint_no("III", 2022)
    fill_unjustified_filing(page, number, closed_on="2022-07-01")  # before it was received
    files = {"登记表.pdf": pdf("投诉客户信息登记表"), "处理单.docx": docx("客户质量投诉处理单")}
    inputs = page.locator("input[type=file]")
    for index, (filename, content) in enumerate(files.items()):
        path = tmp_path / filename
        path.write_bytes(content)
        inputs.nth(index).set_input_files(str(path))
    # A row of attachments too: the refusal that used to answer 500 and lose every file.
    files["现场照片.jpg"] = jpeg(5)
    (tmp_path / "现场照片.jpg").write_bytes(files["现场照片.jpg"])
    page.click("text=添加附件")
    page.locator(".deform-seq-item input[type=file]").last.set_input_files(
        str(tmp_path / "现场照片.jpg"))  # fmt: skip
    # The outcome marks the kinds it needs (the records service's rule).
    assert "required" in page.locator(".document-kind.handling_sheet").get_attribute("class")
    assert "required" not in page.locator(".document-kind.reply_report").get_attribute("class")
    submit(page, "button[name=file]")
    assert "不得早于受理日期" in page.locator(".item-closed_on").inner_text()
    assert page.locator(".kept-name").all_inner_texts() == list(files)
    page.screenshot(path=str(screenshot_folder(tmp_path) / "filing-refused.png"), full_page=True)

    page.fill("input[name=closed_on]", "2022-08-20")  # fixed; no file chosen again
    submit(page, "button[name=file]")
    page.wait_for_url(f"{live_server}/dossiers/*")
    assert f"档案 {number} 已归档" in page.locator("#filed-message").inner_text()
    names = page.locator("table.documents a.download").all_inner_texts()
    assert sorted(names) == sorted(files)
    with page.expect_download() as download_info:
        page.click("a.download >> text=登记表.pdf")
    saved = tmp_path / "back.pdf"
    download_info.value.save_as(str(saved))
    assert (
        hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(files["登记表.pdf"]).digest()
    )


def test_append_a_document_on_the_dossier_page(page, live_server, tmp_path, api):
    dossier = file_dossier(api, metadata()).json  # the live server serves the same app
    sign_in(page, live_server, "archivist")
    page.goto(f"{live_server}/dossiers/{dossier['id']}")
    photo = tmp_path / "现场照片.jpg"
    photo.write_bytes(jpeg(21))
    page.locator("#append-attachment").set_input_files(str(photo))
    submit(page, "button[name=append]")
    assert "1 个文件已追加" in page.locator("#filed-message").inner_text()
    assert "现场照片.jpg" in page.locator("table.documents").inner_text()
