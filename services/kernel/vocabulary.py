"""The words of attendance every part of SIKERJA shares: absence kinds and day statuses.

The one definition: the event contracts build their `Literal` types from these tuples, the
attendance domain checks input against them, the rule sets name them.
"""

from __future__ import annotations

# The nine kinds of an absence record (cuti of every kind, dinas luar, tugas belajar, and
# the izin that is not valid). The order is the contracts' (and their JSON Schema's) order.
ABSENCE_KINDS: tuple[str, ...] = (
    "cuti_tahunan",
    "cuti_besar",
    "cuti_sakit",
    "cuti_melahirkan",
    "cuti_alasan_penting",
    "cuti_bersama",
    "dinas_luar",
    "tugas_belajar",
    "izin_tidak_sah",
)

STATUS_PRESENT = "present"
STATUS_TK = "tanpa_keterangan"
STATUS_NON_WORKING = "non_working"

# What a closed day can be: present, absent without a word, not a working day, or covered
# by an absence of one of the kinds above.
DAY_STATUSES: tuple[str, ...] = (STATUS_PRESENT, STATUS_TK, STATUS_NON_WORKING, *ABSENCE_KINDS)

# What people read next to each status and kind (`status_label`, `jenis_label` in the APIs):
# the values themselves are event contract values and rule-set keys, so they stay as they are.
LABELS: dict[str, str] = {
    STATUS_PRESENT: "Hadir",
    STATUS_TK: "Tanpa keterangan",
    STATUS_NON_WORKING: "Bukan hari kerja",
    "cuti_tahunan": "Cuti tahunan",
    "cuti_besar": "Cuti besar",
    "cuti_sakit": "Cuti sakit",
    "cuti_melahirkan": "Cuti melahirkan",
    "cuti_alasan_penting": "Cuti karena alasan penting",
    "cuti_bersama": "Cuti bersama",
    "dinas_luar": "Dinas luar",
    "tugas_belajar": "Tugas belajar",
    "izin_tidak_sah": "Izin tidak sah",
}


def label(value: str) -> str:
    """The Bahasa label of a day status or absence kind; an unknown value as it is."""
    return LABELS.get(value, value)
