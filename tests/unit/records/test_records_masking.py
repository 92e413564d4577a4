"""Masking of personal data for roles that may not see it (contract §3)."""

from archive_app.records.masking import mask_customer, mask_name, mask_phone


def test_name_keeps_its_first_character():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳明日") == "欧***"


def test_phone_keeps_first_three_and_last_four_digits():
    assert mask_phone("13812345678") == "138****5678"


def test_address_and_organization_are_replaced():
    masked = mask_customer({"name": "张三", "organization": "某药房", "phone": "13812345678",
                            "address": "某路 1 号"})  # fmt: skip
    assert masked == {"name": "张*", "organization": "***", "phone": "138****5678",
                      "address": "***"}  # fmt: skip


def test_missing_values_stay_missing():
    assert mask_customer({"name": "张三"})["phone"] is None
