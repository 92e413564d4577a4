"""Masking of customer personal data for readers who may not see it (contract §3)."""

from __future__ import annotations


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_customer(customer: dict) -> dict:
    return {
        "name": mask_name(customer.get("name")),
        "organization": "***" if customer.get("organization") else customer.get("organization"),
        "phone": mask_phone(customer.get("phone")),
        "address": "***" if customer.get("address") else customer.get("address"),
    }
