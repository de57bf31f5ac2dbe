"""File writers: columnar buffers in, contract-format files out, streamed chunk by chunk.

Bank statements and CDRs go through pyarrow's CSV writer: every string column is one ``take`` from
the interned pool, dates and times come from per-day and per-second lookup tables, so a million rows
format in well under a second and memory stays bounded by one chunk. Statement balances are running
balances per account, carried from chunk to chunk, so they reconcile with the amounts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from palermo.scenario.records import CHANNELS, BankRows, CallRows

BANK_COLUMNS = ("date", "time", "account_iban", "account_holder", "counterparty_iban", "counterparty_name",
                "amount", "currency", "direction", "channel", "description", "city", "balance")
CDR_COLUMNS = ("record_id", "start_time", "caller", "callee", "duration_s", "type", "cell_id", "cell_city")
_OPTIONS = pacsv.WriteOptions(include_header=True, quoting_style="needed")


def _strings(columns: Iterable[str]) -> pa.Schema:
    return pa.schema([(c, pa.string()) for c in columns])


class Clock:
    """Lookup tables turning seconds-since-start into ISO dates and times without per-row formatting."""

    def __init__(self, start: datetime, days: int) -> None:
        self.start = start
        self.dates = pa.array([(start + timedelta(days=d)).date().isoformat() for d in range(days + 2)])
        self.times = pa.array([f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)])

    def date(self, ts: np.ndarray) -> pa.Array:
        return self.dates.take(pa.array(ts // 86_400))

    def time(self, ts: np.ndarray) -> pa.Array:
        return self.times.take(pa.array(ts % 86_400))

    def iso(self, ts: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(self.date(ts), self.time(ts), "T")

    def iso_one(self, ts: int) -> str:
        return (self.start + timedelta(seconds=int(ts))).isoformat()


def _grouped(ibans: pa.Array) -> pa.Array:
    """IBANs printed in groups of four, as some banks print them (the adapters must strip the spaces)."""
    return pc.utf8_rtrim_whitespace(pc.replace_substring_regex(ibans, pattern="(.{4})", replacement="\\1 "))


def _money(cents: np.ndarray) -> pa.Array:
    return pa.array(cents / 100.0).cast(pa.decimal128(18, 2)).cast(pa.string())


class BankWriter:
    """One CSV per bank; rows must arrive in time order, chunk after chunk."""

    def __init__(self, paths: list[Path], pool: pa.Array, clock: Clock, account_bank: np.ndarray,
                 account_iban: np.ndarray, account_holder: np.ndarray, opening: np.ndarray,
                 grouped_banks: frozenset[int] = frozenset()) -> None:
        self.paths, self.pool, self.clock, self.grouped_banks = paths, pool, clock, grouped_banks
        self.account_bank, self.account_iban, self.account_holder = account_bank, account_iban, account_holder
        self.balance = opening.astype(np.int64).copy()
        self.rows = [0] * len(paths)
        self.writers = [pacsv.CSVWriter(str(p), _strings(BANK_COLUMNS), write_options=_OPTIONS)
                        for p in paths]
        self.channels = pa.array(CHANNELS)

    def write(self, rows: BankRows) -> None:
        order = np.lexsort((rows.account, rows.ts))
        r: BankRows = rows.take(order)  # type: ignore[assignment]
        signed = np.where(r.credit == 1, r.cents, -r.cents)
        by_account = np.lexsort((np.arange(len(r)), r.account))
        acct = r.account[by_account]
        running = np.cumsum(signed[by_account])
        first = np.ones(len(acct), dtype=bool)
        first[1:] = acct[1:] != acct[:-1]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(acct)), 0))
        before = np.where(group_start > 0, running[group_start - 1], 0)
        within = running - before
        balance = np.empty(len(r), dtype=np.int64)
        balance[by_account] = self.balance[acct] + within
        last = np.ones(len(acct), dtype=bool)
        last[:-1] = acct[1:] != acct[:-1]
        self.balance[acct[last]] += within[last]
        bank = self.account_bank[r.account]
        for b, writer in enumerate(self.writers):
            sel = np.nonzero(bank == b)[0]
            if not len(sel):
                continue
            self.rows[b] += len(sel)
            take = self.pool.take
            ts = r.ts[sel]
            iban = take(pa.array(self.account_iban[r.account[sel]]))
            cp_iban = take(pa.array(r.cp_iban[sel]))
            if b in self.grouped_banks:
                iban, cp_iban = _grouped(iban), _grouped(cp_iban)
            writer.write_table(pa.table({
                "date": self.clock.date(ts), "time": self.clock.time(ts),
                "account_iban": iban,
                "account_holder": take(pa.array(self.account_holder[r.account[sel]])),
                "counterparty_iban": cp_iban,
                "counterparty_name": take(pa.array(r.cp_name[sel])),
                "amount": _money(r.cents[sel]),
                "currency": pa.array(np.full(len(sel), "USD")),
                "direction": pa.array(np.where(r.credit[sel] == 1, "credit", "debit")),
                "channel": self.channels.take(pa.array(r.channel[sel])),
                "description": take(pa.array(r.description[sel])),
                "city": take(pa.array(r.city[sel])),
                "balance": _money(balance[sel]),
            }, schema=_strings(BANK_COLUMNS)))

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


class CallWriter:
    """The CDR file; record ids number the rows in time order."""

    def __init__(self, path: Path, pool: pa.Array, clock: Clock) -> None:
        self.pool, self.clock, self.rows = pool, clock, 0
        self.writer = pacsv.CSVWriter(str(path), _strings(CDR_COLUMNS), write_options=_OPTIONS)

    def write(self, rows: CallRows) -> None:
        r: CallRows = rows.take(np.lexsort((rows.caller, rows.ts)))  # type: ignore[assignment]
        ids = pa.array(np.arange(self.rows + 1, self.rows + len(r) + 1)).cast(pa.string())
        take = self.pool.take
        self.writer.write_table(pa.table({
            "record_id": pc.binary_join_element_wise("CDR", pc.utf8_lpad(ids, width=9, padding="0"), ""),
            "start_time": self.clock.iso(r.ts),
            "caller": take(pa.array(r.caller)), "callee": take(pa.array(r.callee)),
            "duration_s": pa.array(r.duration).cast(pa.string()),
            "type": pa.array(np.where(r.sms == 1, "sms", "voice")),
            "cell_id": take(pa.array(r.cell)), "cell_city": take(pa.array(r.city)),
        }, schema=_strings(CDR_COLUMNS)))
        self.rows += len(r)

    def close(self) -> None:
        self.writer.close()


def write_ads(handle: Any, ads: list[dict[str, Any]], clock: Clock) -> int:
    """Append ads as JSON lines in time order, turning the internal ``_ts`` into ``posted_at``."""
    ads.sort(key=lambda a: (a["_ts"], a["ad_id"]))
    for ad in ads:
        doc = {"ad_id": ad["ad_id"], "site": ad["site"], "posted_at": clock.iso_one(ad["_ts"]),
               **{k: v for k, v in ad.items() if not k.startswith("_") and k not in ("ad_id", "site")}}
        handle.write(json.dumps(doc, ensure_ascii=False, sort_keys=False) + "\n")
    return len(ads)


def write_json(path: Path, doc: Any) -> None:
    """Pretty, key-ordered JSON, so the same content is the same bytes."""
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
