"""The words on the invoice, its e-mail and its reminders, in each language we support.

A dict rather than gettext catalogues: three languages and a few dozen labels do not
justify a build step, and a billing person can correct a word here in a review.
Placeholders use ``str.format`` names, filled by the templates.
"""

from __future__ import annotations

from invoice_dispatch.invoice import Invoice, TaxCategory

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "credit_note": "Credit note",
        "credit_instruction": "The credited amount of {amount} will be refunded to you or set "
        "off against your next invoice.",
        "email_subject_credit": "Credit note {number} from {seller} ({period})",
        "email_intro_credit": "your credit note {number} for {period} is ready.",
        "email_amount_credit": "Credited amount: {amount}. It will be refunded or set off "
        "against your next invoice.",
        "invoice": "Invoice",
        "draft": "DRAFT",
        "draft_notice": "Draft for approval. Not a valid invoice: number and dates are "
        "assigned when it is finalized.",
        "invoice_number": "Invoice number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "billing_period": "Billing period",
        "customer_number": "Customer number",
        "bill_to": "Bill to",
        "vat_id": "VAT ID",
        "position": "#",
        "description": "Description",
        "service_period": "Service period",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "tax_rate": "VAT",
        "amount": "Amount",
        "tax_breakdown": "VAT breakdown",
        "taxable_amount": "Taxable amount",
        "tax_amount": "VAT amount",
        "net_total": "Total net",
        "tax_total": "Total VAT",
        "gross_total": "Total due",
        "payment": "Payment",
        "payment_instruction": "Please transfer {amount} by {due_date} to the account below, "
        "quoting the payment reference.",
        "payment_terms": "Payment terms: {days} days net",
        "payment_reference": "Payment reference",
        "bank": "Bank",
        "iban": "IBAN",
        "bic": "BIC",
        "preceding_invoice": "Corrects invoice",
        "page": "Page",
        "of": "of",
        "registration": "Registration",
        "email": "E-mail",
        "note_AE": "Reverse charge: VAT to be accounted for by the recipient",
        "note_K": "Intra-community supply of services, exempt from VAT",
        "note_E": "Exempt from VAT",
        "note_Z": "Zero-rated supply",
        "note_O": "Not subject to VAT",
        "email_subject": "Invoice {number} from {seller} ({period})",
        "email_greeting": "Hello {name},",
        "email_intro": "your invoice {number} for {period} is ready.",
        "email_amount": "Amount due: {amount}, payable by {due_date}.",
        "email_attached": "The invoice is attached to this e-mail as a PDF.",
        "email_portal": "Your invoices, credit notes and payment details are in your customer "
        "portal (the link expires after a few days):",
        "email_payment": "Please transfer the amount to IBAN {iban} (BIC {bic}) quoting "
        "{reference} as the payment reference.",
        "email_questions": "Questions about this invoice? Simply reply to this e-mail.",
        "email_closing": "Kind regards,",
        "reminder_subject_upcoming": "Reminder: invoice {number} is due on {due_date}",
        "reminder_subject_due_today": "Invoice {number} is due today",
        "reminder_subject_overdue": "Overdue: invoice {number} ({days} days past due)",
        "reminder_subject_final": "Final reminder: invoice {number} is {days} days overdue",
        "reminder_intro_upcoming": "a friendly reminder that invoice {number} is due on "
        "{due_date}.",
        "reminder_intro_due_today": "invoice {number} is due for payment today.",
        "reminder_intro_overdue": "we have not yet received full payment for invoice {number}, "
        "which was due on {due_date}.",
        "reminder_intro_final": "invoice {number} is now {days} days overdue. Please pay the "
        "open amount within the next few days; otherwise our collections team will contact "
        "you to settle it.",
        "reminder_amount": "Amount still open: {open_amount} (invoice total {gross}).",
        "reminder_open_amount": "Amount still open",
        "reminder_paid_already": "If you have paid in the meantime, thank you, and please "
        "disregard this message.",
    },
    "de": {
        "credit_note": "Rechnungskorrektur",
        "credit_instruction": "Der Betrag von {amount} wird Ihnen erstattet oder mit Ihrer "
        "nächsten Rechnung verrechnet.",
        "email_subject_credit": "Rechnungskorrektur {number} von {seller} ({period})",
        "email_intro_credit": "Ihre Rechnungskorrektur {number} für {period} liegt vor.",
        "email_amount_credit": "Korrekturbetrag: {amount}. Er wird erstattet oder mit Ihrer "
        "nächsten Rechnung verrechnet.",
        "invoice": "Rechnung",
        "draft": "DRAFT",
        "draft_notice": "Entwurf zur Freigabe. Keine gültige Rechnung: Nummer und Daten "
        "werden bei der Festschreibung vergeben.",
        "invoice_number": "Rechnungsnummer",
        "issue_date": "Rechnungsdatum",
        "due_date": "Fällig am",
        "billing_period": "Abrechnungszeitraum",
        "customer_number": "Kundennummer",
        "bill_to": "Rechnungsempfänger",
        "vat_id": "USt-IdNr.",
        "position": "Pos.",
        "description": "Beschreibung",
        "service_period": "Leistungszeitraum",
        "quantity": "Menge",
        "unit_price": "Einzelpreis",
        "tax_rate": "USt.",
        "amount": "Betrag",
        "tax_breakdown": "Umsatzsteuer",
        "taxable_amount": "Bemessungsgrundlage",
        "tax_amount": "Steuerbetrag",
        "net_total": "Summe netto",
        "tax_total": "Summe USt.",
        "gross_total": "Rechnungsbetrag",
        "payment": "Zahlung",
        "payment_instruction": "Bitte überweisen Sie {amount} bis zum {due_date} unter Angabe "
        "des Verwendungszwecks auf das unten genannte Konto.",
        "payment_terms": "Zahlungsziel: {days} Tage netto",
        "payment_reference": "Verwendungszweck",
        "bank": "Bank",
        "iban": "IBAN",
        "bic": "BIC",
        "preceding_invoice": "Korrektur zu Rechnung",
        "page": "Seite",
        "of": "von",
        "registration": "Handelsregister",
        "email": "E-Mail",
        "note_AE": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)",
        "note_K": "Steuerfreie innergemeinschaftliche Leistung",
        "note_E": "Steuerbefreit",
        "note_Z": "Nullsatz",
        "note_O": "Nicht steuerbar",
        "email_subject": "Rechnung {number} von {seller} ({period})",
        "email_greeting": "Guten Tag {name},",
        "email_intro": "Ihre Rechnung {number} für {period} liegt vor.",
        "email_amount": "Rechnungsbetrag: {amount}, fällig am {due_date}.",
        "email_attached": "Die Rechnung finden Sie als PDF im Anhang dieser E-Mail.",
        "email_portal": "Ihre Rechnungen, Gutschriften und Zahlungsangaben finden Sie in Ihrem "
        "Kundenportal (der Link ist einige Tage gültig):",
        "email_payment": "Bitte überweisen Sie den Betrag auf IBAN {iban} (BIC {bic}) mit dem "
        "Verwendungszweck {reference}.",
        "email_questions": "Fragen zu dieser Rechnung? Antworten Sie einfach auf diese E-Mail.",
        "email_closing": "Mit freundlichen Grüßen",
        "reminder_subject_upcoming": "Erinnerung: Rechnung {number} ist am {due_date} fällig",
        "reminder_subject_due_today": "Rechnung {number} ist heute fällig",
        "reminder_subject_overdue": "Zahlungserinnerung: Rechnung {number} ist seit {days} "
        "Tagen überfällig",
        "reminder_subject_final": "Letzte Mahnung: Rechnung {number} ist seit {days} Tagen "
        "überfällig",
        "reminder_intro_upcoming": "wir möchten Sie freundlich daran erinnern, dass die "
        "Rechnung {number} am {due_date} fällig wird.",
        "reminder_intro_due_today": "die Rechnung {number} ist heute zur Zahlung fällig.",
        "reminder_intro_overdue": "für die Rechnung {number}, fällig am {due_date}, ist bei "
        "uns noch keine vollständige Zahlung eingegangen.",
        "reminder_intro_final": "die Rechnung {number} ist seit {days} Tagen überfällig. "
        "Bitte begleichen Sie den offenen Betrag in den nächsten Tagen; andernfalls wird sich "
        "unser Forderungsmanagement bei Ihnen melden.",
        "reminder_amount": "Noch offener Betrag: {open_amount} (Rechnungsbetrag {gross}).",
        "reminder_open_amount": "Noch offen",
        "reminder_paid_already": "Sollten Sie inzwischen bezahlt haben, danken wir Ihnen und "
        "bitten Sie, diese Nachricht als gegenstandslos zu betrachten.",
    },
    "fr": {
        "credit_note": "Avoir",
        "credit_instruction": "Le montant de {amount} vous sera remboursé ou déduit de votre "
        "prochaine facture.",
        "email_subject_credit": "Avoir {number} de {seller} ({period})",
        "email_intro_credit": "votre avoir {number} pour {period} est disponible.",
        "email_amount_credit": "Montant de l'avoir : {amount}. Il vous sera remboursé ou "
        "déduit de votre prochaine facture.",
        "invoice": "Facture",
        "draft": "DRAFT",
        "draft_notice": "Brouillon soumis à approbation. Ce n'est pas une facture : le numéro "
        "et les dates sont attribués à la validation.",
        "invoice_number": "Numéro de facture",
        "issue_date": "Date d'émission",
        "due_date": "Date d'échéance",
        "billing_period": "Période de facturation",
        "customer_number": "Numéro client",
        "bill_to": "Facturé à",
        "vat_id": "N° TVA",
        "position": "N°",
        "description": "Désignation",
        "service_period": "Période de service",
        "quantity": "Qté",
        "unit_price": "Prix unitaire",
        "tax_rate": "TVA",
        "amount": "Montant",
        "tax_breakdown": "Détail de la TVA",
        "taxable_amount": "Base HT",
        "tax_amount": "Montant TVA",
        "net_total": "Total HT",
        "tax_total": "Total TVA",
        "gross_total": "Total TTC",
        "payment": "Paiement",
        "payment_instruction": "Merci de virer {amount} avant le {due_date} sur le compte "
        "ci-dessous en indiquant la référence de paiement.",
        "payment_terms": "Conditions de paiement : {days} jours net",
        "payment_reference": "Référence de paiement",
        "bank": "Banque",
        "iban": "IBAN",
        "bic": "BIC",
        "preceding_invoice": "Rectifie la facture",
        "page": "Page",
        "of": "sur",
        "registration": "Immatriculation",
        "email": "E-mail",
        "note_AE": "Autoliquidation : TVA due par le preneur",
        "note_K": "Prestation intracommunautaire exonérée de TVA",
        "note_E": "Exonéré de TVA",
        "note_Z": "Taux zéro",
        "note_O": "Hors champ d'application de la TVA",
        "email_subject": "Facture {number} de {seller} ({period})",
        "email_greeting": "Bonjour {name},",
        "email_intro": "votre facture {number} pour {period} est disponible.",
        "email_amount": "Montant dû : {amount}, à régler avant le {due_date}.",
        "email_attached": "La facture est jointe à cet e-mail au format PDF.",
        "email_portal": "Vos factures, avoirs et informations de paiement sont dans votre "
        "espace client (le lien expire après quelques jours) :",
        "email_payment": "Merci de virer le montant sur l'IBAN {iban} (BIC {bic}) avec la "
        "référence {reference}.",
        "email_questions": "Une question sur cette facture ? Répondez simplement à cet e-mail.",
        "email_closing": "Cordialement,",
        "reminder_subject_upcoming": "Rappel : la facture {number} arrive à échéance le {due_date}",
        "reminder_subject_due_today": "La facture {number} arrive à échéance aujourd'hui",
        "reminder_subject_overdue": "Relance : facture {number} en retard de {days} jours",
        "reminder_subject_final": "Dernière relance : facture {number} en retard de {days} jours",
        "reminder_intro_upcoming": "nous vous rappelons que la facture {number} arrive à "
        "échéance le {due_date}.",
        "reminder_intro_due_today": "la facture {number} est payable aujourd'hui.",
        "reminder_intro_overdue": "sauf erreur de notre part, nous n'avons pas encore reçu le "
        "paiement complet de la facture {number}, échue le {due_date}.",
        "reminder_intro_final": "la facture {number} est en retard de {days} jours. Merci de "
        "régler le montant restant dû dans les prochains jours ; à défaut, notre service de "
        "recouvrement prendra contact avec vous.",
        "reminder_amount": "Montant restant dû : {open_amount} (total de la facture {gross}).",
        "reminder_open_amount": "Restant dû",
        "reminder_paid_already": "Si vous avez réglé entre-temps, merci, et veuillez ne pas "
        "tenir compte de ce message.",
    },
}


def is_credit_note(invoice: Invoice) -> bool:
    """A document that corrects an earlier invoice downwards (billing's ``create_credit_note``).

    It carries the credited invoice's number and a negative total; the PDF calls it a credit
    note, asks for no payment, and Factur-X types it 381 with the signs turned positive.
    """
    return invoice.credited_invoice_number is not None and invoice.gross_total < 0


def labels_for(language: str) -> dict[str, str]:
    return LABELS.get(language, LABELS["en"])


def tax_note(category: TaxCategory, language: str) -> str | None:
    """The legally required wording for a VAT category without (full) VAT, if any.

    Art. 226 (11)-(12) of the VAT directive asks an invoice to name the exemption or the
    reverse charge; standard-rated lines need no note.
    """
    return labels_for(language).get(f"note_{category.value}")
