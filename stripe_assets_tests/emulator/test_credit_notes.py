"""Credit notes in the emulator: each credits a paid invoice days after it, for no more than its
total, and the invoice shows it; notes are edited or voided as the clock moves on, a voided one
no longer counting on its invoice."""

from __future__ import annotations


def test_credit_notes_credit_paid_invoices_which_show_them(emu, api):
    notes = emu.objects("credit_notes")
    assert notes
    invoices = {i["id"]: i for i in emu.objects("invoices")}
    for note in notes:
        invoice = invoices[note["invoice"]]
        assert invoice["status"] == "paid" and invoice["created"] < note["created"]
        assert 0 < note["amount"] == note["total"] == note["post_payment_amount"] <= invoice["total"]
        assert invoice["post_payment_credit_notes_amount"] == note["amount"]
        assert (note["customer"], note["currency"]) == (invoice["customer"], invoice["currency"])
        assert note["status"] == "issued"
        assert note["number"].startswith(invoice["number"])
        [line] = note["lines"]["data"]
        assert line["amount"] == note["amount"]
        if invoice["lines"]["total_count"] == 1:  # against its one line; else a custom line
            assert line["invoice_line_item"] == invoice["lines"]["data"][0]["id"], note["id"]
        else:
            assert (line["type"], line["invoice_line_item"]) == ("custom_line_item", None), note["id"]
    credited = [i for i in invoices.values() if i["post_payment_credit_notes_amount"]]
    assert sorted(i["id"] for i in credited) == sorted(n["invoice"] for n in notes)
    assert any(n["amount"] < invoices[n["invoice"]]["total"] for n in notes)  # some credit a part
    note = notes[len(notes) // 2]
    assert api.ok(f"/v1/credit_notes/{note['id']}") == note
    assert api.ids("/v1/credit_notes", limit=100) == [n["id"] for n in notes[:100]]
    assert api.ids("/v1/credit_notes", invoice=note["invoice"]) == [note["id"]]
    of_customer = [n["id"] for n in notes if n["customer"] == note["customer"]]
    assert api.ids("/v1/credit_notes", customer=note["customer"], limit=100) == of_customer


def test_credit_notes_are_edited_or_voided_and_voids_leave_their_invoice(moved, moved_api, before_moving):
    events = moved.events()
    updated = [e for e in events if e["type"] == "credit_note.updated"]
    voided = [e for e in events if e["type"] == "credit_note.voided"]
    assert len(updated) == len(voided) == 20
    for event in updated:
        assert set(event["data"]["previous_attributes"]) in ({"memo"}, {"metadata"})
    invoice_updates = {e["data"]["object"]["id"]: e for e in events if e["type"] == "invoice.updated"}
    for event in voided:
        note = event["data"]["object"]
        assert (note["status"], note["voided_at"]) == ("void", event["created"])
        assert event["data"]["previous_attributes"] == {"status": "issued", "voided_at": None}
        assert moved_api.ok(f"/v1/credit_notes/{note['id']}") == note
        invoice = moved_api.ok(f"/v1/invoices/{note['invoice']}")
        assert invoice["post_payment_credit_notes_amount"] == 0
        assert invoice_updates[invoice["id"]]["data"]["previous_attributes"] == {
            "post_payment_credit_notes_amount": before_moving[invoice["id"]]["post_payment_credit_notes_amount"]
        }
