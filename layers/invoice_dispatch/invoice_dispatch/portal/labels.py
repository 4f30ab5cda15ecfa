"""The portal page's words in each language an account may have (``rendering/labels.py``
holds the invoice's and the e-mails'; the page reuses its document names)."""

from __future__ import annotations

from invoice_dispatch.receivables.receivable import ReceivableStatus
from invoice_dispatch.rendering.labels import labels_for

_PORTAL_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your invoices and credit notes",
        "account": "customer account {account} · from {seller}",
        "private": "This page is private to your account; its link expires on {expires}.",
        "documents": "Documents",
        "document": "Document",
        "date": "Date",
        "status": "Status",
        "amount_open": "Amount open",
        "download": "Download {number}.pdf",
        "being_prepared": "being prepared",
        "newest": "Newest documents",
        "older": "Older documents",
        "none_yet": "There are no invoices or credit notes for this account yet.",
        "how_to_pay": "How to pay",
        "pay_intro": "Transfer the amount open to the account below, quoting the reference, "
        "so that your payment is matched to the invoice. For euro invoices, scan the QR code "
        "with your banking app.",
        "pay_online": "Pay online",
        "pay_online_note": "by card on our payment provider's secure page, or by transfer:",
        "beneficiary": "Beneficiary",
        "reference": "Reference",
        "credits": "Credits {number}",
        "auto_pay": "Collected automatically with the payment method you agreed",
        "questions": "Questions about an invoice? Write to {email}.",
        "issued": "Issued",
        "open": "Open",
        "partially_paid": "Partially paid",
        "paid": "Paid",
        "overpaid": "Overpaid",
        "overdue": "Overdue",
        "disputed": "Disputed",
        "credited": "Credited",
        "written_off": "Written off",
    },
    "de": {
        "title": "Ihre Rechnungen und Gutschriften",
        "account": "Kundenkonto {account} · von {seller}",
        "private": "Diese Seite gehört zu Ihrem Konto; ihr Link ist gültig bis {expires}.",
        "documents": "Dokumente",
        "document": "Dokument",
        "date": "Datum",
        "status": "Status",
        "amount_open": "Offener Betrag",
        "download": "{number}.pdf herunterladen",
        "being_prepared": "wird erstellt",
        "newest": "Neueste Dokumente",
        "older": "Ältere Dokumente",
        "none_yet": "Für dieses Konto gibt es noch keine Rechnungen oder Gutschriften.",
        "how_to_pay": "So zahlen Sie",
        "pay_intro": "Überweisen Sie den offenen Betrag auf das unten genannte Konto und geben "
        "Sie den Verwendungszweck an, damit Ihre Zahlung der Rechnung zugeordnet wird. Bei "
        "Rechnungen in Euro scannen Sie den QR-Code mit Ihrer Banking-App.",
        "pay_online": "Online bezahlen",
        "pay_online_note": "mit Karte auf der sicheren Seite unseres Zahlungsanbieters, "
        "oder per Überweisung:",
        "beneficiary": "Empfänger",
        "reference": "Verwendungszweck",
        "credits": "Korrektur zu {number}",
        "auto_pay": "Wird automatisch über die vereinbarte Zahlungsart eingezogen",
        "questions": "Fragen zu einer Rechnung? Schreiben Sie an {email}.",
        "issued": "Ausgestellt",
        "open": "Offen",
        "partially_paid": "Teilweise bezahlt",
        "paid": "Bezahlt",
        "overpaid": "Überzahlt",
        "overdue": "Überfällig",
        "disputed": "Beanstandet",
        "credited": "Gutgeschrieben",
        "written_off": "Ausgebucht",
    },
    "fr": {
        "title": "Vos factures et avoirs",
        "account": "compte client {account} · de {seller}",
        "private": "Cette page est réservée à votre compte ; son lien expire le {expires}.",
        "documents": "Documents",
        "document": "Document",
        "date": "Date",
        "status": "Statut",
        "amount_open": "Montant restant dû",
        "download": "Télécharger {number}.pdf",
        "being_prepared": "en préparation",
        "newest": "Documents récents",
        "older": "Documents plus anciens",
        "none_yet": "Aucune facture ni aucun avoir pour ce compte pour l'instant.",
        "how_to_pay": "Comment payer",
        "pay_intro": "Virez le montant restant dû sur le compte ci-dessous en indiquant la "
        "référence, afin que votre paiement soit rapproché de la facture. Pour les factures "
        "en euros, scannez le QR code avec votre application bancaire.",
        "pay_online": "Payer en ligne",
        "pay_online_note": "par carte sur la page sécurisée de notre prestataire de paiement, "
        "ou par virement :",
        "beneficiary": "Bénéficiaire",
        "reference": "Référence",
        "credits": "Avoir sur {number}",
        "auto_pay": "Prélevé automatiquement avec le moyen de paiement convenu",
        "questions": "Une question sur une facture ? Écrivez à {email}.",
        "issued": "Émis",
        "open": "Ouverte",
        "partially_paid": "Partiellement payée",
        "paid": "Payée",
        "overpaid": "Trop-perçu",
        "overdue": "En retard",
        "disputed": "Contestée",
        "credited": "Créditée",
        "written_off": "Passée en perte",
    },
}

#: Every receivable status has its word (a test holds each language to the same keys).
STATUS_KEYS = tuple(status.value for status in ReceivableStatus)


def portal_labels(language: str) -> dict[str, str]:
    """The page's words, with the invoice's own (``invoice``, ``credit_note``, ``amount``,
    ``due_date``, ``iban``...) from ``rendering/labels.py``."""
    return {**labels_for(language), **_PORTAL_LABELS.get(language, _PORTAL_LABELS["en"])}


LANGUAGES = tuple(_PORTAL_LABELS)
