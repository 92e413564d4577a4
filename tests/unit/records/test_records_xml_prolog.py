"""The XML prolog reader of the upload filter: a DTD refused in any encoding, at any
position before the root, and a prolog that never reaches its root refused past its bound."""

from __future__ import annotations

import pytest

from archive_app.records.media import MAX_XML_PROLOG, MediaRejected, XmlProlog

DTD = '<!DOCTYPE r [<!ENTITY e "x">]>'


def read(data: bytes, chunk: int = 7) -> None:
    prolog = XmlProlog()
    for start in range(0, len(data), chunk):  # odd chunks: tokens split across reads
        prolog.feed(data[start : start + chunk])
    prolog.close()


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_a_dtd_is_refused_in_every_encoding_expat_reads(codec):
    declared = "UTF-16" if codec.startswith("utf-16") else "UTF-8"
    text = f'<?xml version="1.0" encoding="{declared}"?><!-- c -->{DTD}<r>&e;</r>'
    with pytest.raises(MediaRejected, match="document type declaration"):
        read(text.encode(codec))
    read(text.replace(DTD, "").replace("&e;", "").encode(codec))  # the same, no DTD: fine


def test_the_root_ends_the_reading():
    # After the root nothing more is parsed: a body is not the prolog's business.
    read(b"<?xml version='1.0'?><r>" + b"<a/>" * 100_000)


def test_a_prolog_longer_than_the_bound_is_refused():
    # expat holds an unfinished comment in memory: the bound keeps that finite.
    with pytest.raises(MediaRejected, match="implausibly long"):
        read(b"<!--" + b"x" * (MAX_XML_PROLOG + 1), chunk=65536)


def test_a_part_that_is_not_xml_is_refused_and_an_empty_one_is_not():
    with pytest.raises(MediaRejected, match="cannot be read"):
        read(b"\x00\x01 not xml at all")
    read(b"")
