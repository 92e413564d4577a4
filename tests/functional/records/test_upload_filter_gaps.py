"""Upload filter gaps (issue 10 item 8): a DTD in any encoding or after any prolog, zip
members that lie about their size, macros in old binary Word and Excel files, and the
content checked before the complaint number's uniqueness. Also (items 7 and 10) deeply
nested metadata and a filing without a confidentiality level."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import pytest
from factories import complaint_no, docx, metadata, metadata_part
from support import REALDOCS, assert_error
from test_records_bad_input import post, unchanged  # noqa: F401 (a fixture)
from test_records_hostile import BILLION_LAUGHS, XXE, rezip


def with_part(name: str, data: bytes, filename: str = "处理单.docx", kind="handling_sheet"):
    """The complete set of files, `kind` replaced by `data` under `filename`."""
    from factories import complete_files

    return [(k, f, d) if k != kind else (k, filename, data) for k, f, d in complete_files()]


def document_xml() -> str:
    return zipfile.ZipFile(io.BytesIO(docx())).read("word/document.xml").decode("utf-8")


def encoded_document(text: str, encoding: str, bom: bytes = b"") -> bytes:
    """The docx with word/document.xml re-encoded (its declaration saying so)."""
    declared = "UTF-16" if encoding.startswith("utf-16") else "UTF-8"
    body = text.replace("encoding='UTF-8'", f"encoding='{declared}'", 1)
    assert declared in body
    return rezip(docx(), replace={"word/document.xml": bom + body.encode(encoding)})


def with_doctype(prolog: str = "", doctype: str = BILLION_LAUGHS) -> str:
    """document.xml with `prolog` and then a DTD between its declaration and its root."""
    return document_xml().replace("?>", "?>" + prolog + doctype, 1)


ENCODINGS = {
    "UTF-16 LE with BOM": ("utf-16-le", b"\xff\xfe"),
    "UTF-16 BE with BOM": ("utf-16-be", b"\xfe\xff"),
    "UTF-16 LE without BOM": ("utf-16-le", b""),
    "UTF-16 BE without BOM": ("utf-16-be", b""),
    "UTF-8 with BOM": ("utf-8", b"\xef\xbb\xbf"),
}


def assert_refused(api, files, field="handling_sheet", meta=None, because=None):
    response = post(api, [metadata_part(meta or metadata())], files, 415)
    assert_error(response, 415, "unsupported_media_type", field)
    if because:
        assert because in response.json["detail"]
    return response


DTD = "document type declaration"


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_dtd_is_refused_whatever_the_encoding(api, unchanged, encoding):  # noqa: F811
    codec, bom = ENCODINGS[encoding]
    files = with_part("handling_sheet", encoded_document(with_doctype(), codec, bom))
    assert_refused(api, files, because=DTD)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_the_same_documents_without_a_dtd_are_filed(api, encoding):
    codec, bom = ENCODINGS[encoding]
    files = with_part("handling_sheet", encoded_document(document_xml(), codec, bom))
    post(api, [metadata_part(metadata())], files, 201)


PROLOGS = {
    "after a 100 KB comment": "<!--" + "x" * (100 * 1024) + "-->",
    "after processing instructions": "".join(f"<?pi{n} {'y' * 2000}?>" for n in range(40)),
    "after comments and blank lines": ("\n" * 5000 + "<!-- note -->") * 20,
}


@pytest.mark.parametrize("position", sorted(PROLOGS))
@pytest.mark.parametrize("doctype", [BILLION_LAUGHS, XXE], ids=["entity bomb", "external"])
def test_a_dtd_is_refused_wherever_the_prolog_puts_it(api, unchanged, position, doctype):  # noqa: F811
    part = with_doctype(PROLOGS[position], doctype).encode("utf-8")
    assert_refused(api, with_part("handling_sheet", rezip(docx(), replace={
        "word/document.xml": part})), because=DTD)  # fmt: skip


def test_a_dtd_in_a_utf16_part_after_a_long_comment(api, unchanged):  # noqa: F811
    text = with_doctype(PROLOGS["after a 100 KB comment"])
    assert_refused(
        api, with_part("handling_sheet", encoded_document(text, "utf-16-le")), because=DTD
    )


def lying_sizes(data: bytes, member: str, declared: int) -> bytes:
    """The zip with `member`'s uncompressed size rewritten to `declared`, in its local header
    and its central directory entry (the CRC still matches the real content)."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
        directory = archive.start_dir
    assert raw[info.header_offset : info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", raw, info.header_offset + 22, declared)
    offset = directory
    while raw[offset : offset + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", raw, offset + 28)
        name = bytes(raw[offset + 46 : offset + 46 + name_length]).decode("utf-8")
        if name == member:
            struct.pack_into("<I", raw, offset + 24, declared)
        offset += 46 + name_length + extra_length + comment_length
    return bytes(raw)


def test_a_member_that_lies_about_its_size_is_counted_as_it_inflates(api, unchanged):  # noqa: F811
    bomb = rezip(docx(), extra={"word/media/image1.png": b"\0" * (48 * 2**20)})
    liar = lying_sizes(bomb, "word/media/image1.png", 1000)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:  # what today's check added up
        assert sum(member.file_size for member in archive.infolist()) < 2**20
    response = assert_refused(api, with_part("handling_sheet", liar))
    assert "zip bomb" in response.json["detail"]


def test_an_xml_part_that_lies_about_its_size_is_read_to_its_root(api, unchanged):  # noqa: F811
    # Declared as 10 bytes: a reader trusting that would see no DTD in the first 10.
    part = with_doctype("<!--" + "z" * 5000 + "-->").encode("utf-8")
    liar = lying_sizes(rezip(docx(), replace={"word/document.xml": part}),
                       "word/document.xml", 10)  # fmt: skip
    assert_refused(api, with_part("handling_sheet", liar), because=DTD)


def realdoc(folder: str, name: str) -> bytes:
    path = REALDOCS / folder / name
    if not path.is_file():
        pytest.skip(f"the real-document corpus is absent ({path}); set ARCHIVE_REALDOCS")
    return path.read_bytes()


MACRO_FILES = {
    "Word with VBA": ("SimpleMacro.doc", "handling_sheet", ".doc"),
    "Excel with VBA": ("SimpleMacro.xls", "attachment", ".xls"),
    "Excel with VBA (another)": ("SquareMacro.xls", "attachment", ".xls"),
    "Excel encrypted with the default password, VBA inside": (
        "autostart-encrypt-standardpassword.xls", "attachment", ".xls"),
    "Excel 4 (XLM) macro sheet": ("excel4_sample_macro.xls", "attachment", ".xls"),
}  # fmt: skip


def files_with(kind: str, filename: str, data: bytes):
    from factories import complete_files

    files = complete_files()
    if kind == "attachment":
        return files + [("attachment", filename, data)]
    return with_part(kind, data, filename, kind)


@pytest.mark.parametrize("case", sorted(MACRO_FILES))
def test_old_binary_office_files_with_macros_are_refused(api, unchanged, case):  # noqa: F811
    name, kind, extension = MACRO_FILES[case]
    response = assert_refused(api, files_with(kind, f"文件{extension}", realdoc("refused", name)),
                              field=kind)  # fmt: skip
    assert "macros" in response.json["detail"]


@pytest.mark.parametrize("name", ["harmless-clean.doc",
    "au.edu.utas.www___data_assets_word_doc_0003_154335_International-Travel-Approval-Request-Form.doc",
])  # fmt: skip
def test_old_word_files_without_macro_code_are_filed(api, name):
    # The second keeps the empty VBA project Word leaves behind (only Attribute lines).
    post(api, [metadata_part(metadata())],
         files_with("handling_sheet", "表.doc", realdoc("doc", name)), 201)  # fmt: skip


REFUSED_FOR_CONTENT = {
    "UTF-16 DTD": lambda: ("处理单.docx",
                           encoded_document(with_doctype(), "utf-16-le", b"\xff\xfe")),
    "lying zip member": lambda: ("处理单.docx", lying_sizes(rezip(docx(), extra={
        "word/media/image1.png": b"\0" * (48 * 2**20)}), "word/media/image1.png", 1000)),
    "VBA in a .doc": lambda: ("处理单.doc", realdoc("refused", "SimpleMacro.doc")),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED_FOR_CONTENT))
def test_a_refused_file_answers_the_same_whether_its_number_exists(api, case):
    filename, data = REFUSED_FOR_CONTENT[case]()
    taken = metadata()
    post(api, [metadata_part(taken)], with_part("handling_sheet", docx()), 201)
    answers = []
    for meta in (taken, metadata(complaint_no=complaint_no("I"))):
        response = post(
            api, [metadata_part(meta)], with_part("handling_sheet", data, filename), 415
        )
        assert_error(response, 415, "unsupported_media_type", "handling_sheet")
        answers.append(response.json)
    assert answers[0] == answers[1]


NESTED = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize("where", ["the whole part", "a field", "deep but parseable"])
def test_deeply_nested_metadata_is_a_bad_request(api, unchanged, where):  # noqa: F811
    meta = json.dumps(metadata(), ensure_ascii=False)
    part = {
        "the whole part": NESTED,
        "a field": meta.replace('"质量部"', NESTED, 1),
        "deep but parseable": meta.replace('"质量部"', "[" * 200 + "]" * 200, 1),
    }[where]
    assert_error(post(api, [metadata_part(part)], with_part("handling_sheet", docx()), 400),
                 400, "bad_request", "metadata")  # fmt: skip


def test_deeply_nested_json_body_is_a_bad_request(api):
    response = api.app.post("/api/v1/auth/token", NESTED, status=400,
                            headers={"Content-Type": "application/json"})  # fmt: skip
    assert_error(response, 400, "bad_request")


def test_a_filing_without_confidentiality_is_refused(api, unchanged):  # noqa: F811
    meta = metadata()
    del meta["confidentiality"]
    response = post(api, [metadata_part(meta)], with_part("handling_sheet", docx()), 422)
    assert_error(response, 422, "invalid", "confidentiality")
