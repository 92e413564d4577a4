"""Access-log details read back in words (access/details.py): each shape the archive writes
becomes catalogue sentences with labels inside, in Chinese and English; free text stays."""

from __future__ import annotations

import pytest

from archive_app.access.details import detail_in_words, detail_words
from archive_app.access.review import WITHHELD
from archive_app.labels import catalogue

SHOWN = {
    "q='阿莫西林' filters={'complaint_class': 'I', 'complaint_type': 'adverse_reaction'} "
    "from=2023-01-01 to=None: 3 results": (
        "query: 阿莫西林 Complaint class: Class I Complaint type: Adverse reaction "
        "Received from: 2023-01-01 3 results",
        "检索词：阿莫西林 投诉类别：Ⅰ类",
    ),
    "q=None filters={} from=None to=None: 0 results": ("0 results", "0 条结果"),
    "q='胶囊' filters={} from=None to=None sort=received_on_asc: 3 results": (
        "query: 胶囊 Received, oldest first 3 results", "检索词：胶囊"),
    "q='胶囊' filters={} from=None to=None sort=relevance: 3 results": (
        "query: 胶囊 3 results", "3 条结果"),
    "4 documents (web)": ("4 documents", "4 份文件"),
    "user li4 role auditor clearance confidential (web)": (
        "User li4: role Auditor, clearance Confidential", "用户 li4：角色 审计员"),
    "user li4: role auditor -> records_manager, clearance internal -> restricted, deactivated": (
        "User li4: Role Auditor → Records manager Clearance Internal → Restricted deactivated",
        "档案主管",
    ),
    "404 not_found: no such dossier": (
        "Not found: it does not exist or is not yours to see. (404: no such dossier)", "404"),
    "as of 2014-01-01, dry run False: 2 destroyed, 1 held": (
        "Destruction run as of 2014-01-01: 2 destroyed, 1 under hold", "销毁运行"),
    WITHHELD: ("Withheld: the entry names a dossier above your clearance", "已隐去"),
    "诉讼保全 {'x': 1}": ("诉讼保全 x: 1", "诉讼保全 x: 1"),  # free text, a stray repr
    "${name} in a hold reason": ("${name} in a hold reason", "${name} in a hold reason"),
    "user ldap-a role archivist clearance confidential (directory group qa, first sign-in)": (
        "User ldap-a: role Archivist, clearance Confidential LDAP group qa, created on first use",
        "首次使用时创建"),
    "user ldap-a: role auditor -> archivist (directory group qa)": (
        "User ldap-a: Role Auditor → Archivist LDAP group qa", "LDAP 组 qa"),
    "user ldap-b: deactivated (in no mapped directory group; its groups: none)": (
        "User ldap-b: deactivated in no mapped LDAP group (it is in no group at all)",
        "不属于任何组"),
    "user ldap-c: deactivated (in no mapped directory group; its groups: sales)": (
        "User ldap-c: deactivated in no mapped LDAP group (its groups: sales)", "其所在组：sales"),
}  # fmt: skip


@pytest.mark.parametrize("detail", list(SHOWN))
def test_a_detail_reads_in_words(detail):
    english, chinese = SHOWN[detail]
    shown_en = detail_in_words(catalogue("en").translate, detail)
    shown_zh = detail_in_words(catalogue("zh_CN").translate, detail)
    assert shown_en == english
    assert chinese in shown_zh and "{'" not in shown_zh


def test_no_detail_no_words():
    assert detail_words(None) == [] and detail_words("") == []
    assert detail_in_words(catalogue("en").translate, None) == ""
