"""The readers at the edges the real corpus shows: a Word file's headers, footers and comments,
an e-mail's HTML body and attachments (nested, bounded), every common Chinese and Japanese
encoding, a long text cut instead of dropped."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import docx
import pytest

from archive_app.demo import documents
from archive_app.search.extraction import extract_text
from archive_app.search.readers import mail
from archive_app.search.readers.text import decode

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_word_files_headers_footers_and_comments_are_read(tmp_path):
    document = docx.Document()
    body = document.add_paragraph("正文：胶囊破损")
    section = document.sections[0]
    section.header.paragraphs[0].text = "页眉：质量部受控文件"
    section.footer.paragraphs[0].text = "页脚：第一页"
    document.add_comment(body.runs, text="批注：请核对批号", author="王质量")
    path = tmp_path / "sheet.docx"
    document.save(path)
    text = extract_text(path, DOCX).text
    for words in ("胶囊破损", "质量部受控文件", "第一页", "请核对批号"):
        assert words in text


def write_mail(tmp_path: Path, message: EmailMessage) -> Path:
    path = tmp_path / "mail.eml"
    path.write_bytes(bytes(message))
    return path


def test_an_html_body_is_reduced_to_its_words_never_its_code(tmp_path):
    message = EmailMessage()
    message["Subject"] = "投诉回复"
    message.set_content("<html><head><style>p{color:red}</style></head><body><p>批号"
                        " <b>AM2301</b> 溶出度合格</p><script>alert('x')</script></body></html>",
                        subtype="html")  # fmt: skip
    text = extract_text(write_mail(tmp_path, message), "message/rfc822").text
    assert "AM2301" in text and "溶出度合格" in text and "投诉回复" in text
    assert "alert" not in text and "color" not in text and "<b>" not in text


def test_attachments_are_read_nested_mails_included_within_the_depth_bound(tmp_path):
    inner = EmailMessage()
    inner["Subject"] = "内层邮件"
    inner.set_content("内层正文")
    inner.add_attachment(
        documents.make_pdf("检验报告", ["批号 VC2409 溶出度 62%"]),
        maintype="application",
        subtype="pdf",
        filename="检验报告.pdf",
    )
    outer = EmailMessage()
    outer["Subject"] = "转发"
    outer.set_content("请看附件")
    outer.add_attachment(inner)
    text = extract_text(write_mail(tmp_path, outer), "message/rfc822")
    assert "内层正文" in text.text and "VC2409" in text.text and text.complete

    deepest = outer
    for level in range(mail.MAX_DEPTH + 1):  # one level more than the bound
        wrapper = EmailMessage()
        wrapper["Subject"] = f"第{level}层"
        wrapper.set_content("外层")
        wrapper.add_attachment(deepest)
        deepest = wrapper
    bounded = extract_text(write_mail(tmp_path, deepest), "message/rfc822")
    assert "VC2409" not in bounded.text and bounded.complete is False


def test_a_refused_or_broken_attachment_costs_only_its_own_text(tmp_path):
    message = EmailMessage()
    message["Subject"] = "附件损坏"
    message.set_content("正文仍可检索")
    message.add_attachment(b"%PDF-1.4 broken", maintype="application", subtype="pdf",
                           filename="坏.pdf")  # fmt: skip
    message.add_attachment(b"MZ\x90\x00" * 64, maintype="application",
                           subtype="octet-stream", filename="run.exe")  # fmt: skip
    text = extract_text(write_mail(tmp_path, message), "message/rfc822")
    assert "正文仍可检索" in text.text and text.reason is not None


SENTENCE = "投诉产品的批号与有效期"


@pytest.mark.parametrize("encoding", ["gb2312", "gbk", "gb18030", "big5", "hz", "utf-16"])
def test_chinese_in_every_common_encoding(encoding):
    text = (SENTENCE if encoding != "big5" else "投訴產品的批號與有效期") * 8
    assert decode(text.encode(encoding)) == text


def test_japanese_shift_jis_and_a_short_gb_text():
    japanese = ("Python の開発は、1990 年ごろから開始されています。開発者の Guido van Rossum は"
                "教育用のプログラミング言語である「ABC」の開発に参加していましたが、ABC は実用上の"
                "目的にはあまり適していませんでした。このため、Guido はより実用的なプログラミング"
                "言語の開発を開始しました。")  # fmt: skip
    assert decode(japanese.encode("shift_jis")) == japanese
    assert decode("胶囊破损".encode("gb18030")) == "胶囊破损"  # too short to judge: GB18030


def test_a_long_text_is_cut_at_the_bound_not_dropped(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("溶出度合格\n" * 100_000, encoding="utf-8")
    extraction = extract_text(path, "text/plain", max_chars=10_000)
    assert extraction.text.startswith("溶出度合格") and not extraction.complete
    assert len(extraction.text) <= 10_000


def test_pdf_text_keeps_the_spaces_between_words(tmp_path):
    path = tmp_path / "words.pdf"
    path.write_bytes(documents.make_pdf("Additional pin renames", ["batch number AM2301"]))
    text = extract_text(path, "application/pdf").text
    assert "Additional pin renames" in text and "batch number AM2301" in text
