"""The Bahasa labels of the attendance vocabulary: one for every day status and absence
kind, each its own."""

from __future__ import annotations

from services.kernel import vocabulary


def test_every_status_and_kind_has_its_own_label() -> None:
    values = (*vocabulary.DAY_STATUSES, *vocabulary.ABSENCE_KINDS)
    labels = {value: vocabulary.label(value) for value in values}
    assert all(labels[v] and labels[v] != v for v in values), labels
    assert len(set(labels.values())) == len(set(values))
    assert vocabulary.label("present") == "Hadir"
    assert vocabulary.label("tanpa_keterangan") == "Tanpa keterangan"
    assert vocabulary.label("cuti_alasan_penting") == "Cuti karena alasan penting"


def test_an_unknown_value_reads_as_itself() -> None:
    assert vocabulary.label("rule_set_baru") == "rule_set_baru"
