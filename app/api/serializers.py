"""Rows as the API's JSON objects (money as strings, dates as YYYY-MM-DD)."""
from __future__ import annotations

from app.money import api_amount, api_rate
from app.permissions import sees_sensitive


def station_json(s) -> dict:
    return {"id": s.id, "name": s.name, "address": s.address, "shortfall_policy": s.shortfall_policy}


def worker_json(w, revealed: dict | None = None) -> dict:
    data = {
        "id": w.id, "name": w.name, "phone": w.phone, "station_id": w.station_id,
        "birth_year": w.birth_year, "gender": w.gender, "active": w.active,
    }
    if sees_sensitive():
        # Masked unless revealed (audited: org.reveal_sensitive).
        data.update(groups=w.groups, id_number=w.masked_id_number or None,
                    bank_account=w.masked_bank_account or None, bank_name=w.bank_name)
        if revealed is not None:
            data.update(revealed)
    return data


__all__ = ["api_amount", "api_rate", "station_json", "worker_json"]
