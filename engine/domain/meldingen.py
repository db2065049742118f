"""What a person reads when the engine or the API says no: one Dutch sentence per refusal code and
per HTTP status, in one place. Machines keep reading the stable English `code` and `fout`; people
read `melding` (the dashboard shows nothing else). A melding names no id a client sent and never
tells "not yours" apart from "does not exist".
"""

from __future__ import annotations

PER_STATUS: dict[int, str] = {
    400: "Het verzoek is niet volledig of niet geldig. Controleer de ingevulde velden.",
    401: "Uw aanmelding is niet (meer) geldig. Meld u opnieuw aan met een geldig token.",
    403: "Uw aanmelding geeft geen toegang tot deze gegevens.",
    404: "Niet gevonden bij uw RIEC.",
    405: "Deze handeling is hier niet mogelijk.",
    413: "Het verzoek is te groot.",
    503: "De engine kan dit nu niet verwerken. Probeer het over een ogenblik opnieuw.",
}

PER_CODE: dict[str, str] = {
    # Decided by a casus's writer or the link rules (engine.domain.casus, engine.domain.koppelingen).
    "unknown_casus": "Deze casus bestaat niet bij uw RIEC.",
    "unknown_hkp": "Dit handhavingsknelpunt bestaat niet bij uw RIEC.",
    "not_owner": "Deze casus bestaat niet bij uw RIEC.",
    "id_taken": "Dit id is al in gebruik. Kies een ander id.",
    "impossible_transition": "Deze stap is in de huidige stand van de casus niet mogelijk.",
    "koppeling_verlopen": (
        "Dit signaal is niet binnen de termijn in de inbox van uw RIEC verschenen; de koppeling is vervallen."
    ),
    "signaal_niet_gerouteerd": "Dit signaal staat niet in de inbox van uw RIEC; de koppeling is vervallen.",
    "hkp_gebied_buiten_regio": "Een gebied mag alleen postcodes uit de eigen regio bevatten.",
    # Refused at the front door (engine.domain.ingress): the command itself was not valid.
    "payload_invalid": "De opdracht is niet volledig of een veld is niet geldig.",
    "envelope_invalid": "De opdracht is niet volledig of een veld is niet geldig.",
    "not_json": "De opdracht is niet leesbaar.",
    "too_large": "De opdracht is te groot.",
    "unknown_type": "Dit soort opdracht kent de engine niet.",
    "bsn_in_id": "Een id mag geen BSN bevatten. Gebruik een neutraal id.",
    "bsn_in_veld": "Dit veld mag geen BSN bevatten. Noem een persoon alleen als subject.",
    "elfproef": "Het BSN van een subject is niet geldig (elfproef).",
    "date_out_of_range": "Een datum ligt buiten het toegestane bereik.",
    "ce_time_out_of_range": "Het tijdstip van de opdracht is niet geldig.",
    "unknown_gemeente": "Deze gemeente is onbekend.",
    "unknown_postcode": "Deze postcode is onbekend.",
    "internal_error": "De engine kon de opdracht niet verwerken; de beheerders zijn gewaarschuwd.",
}

ONBEKEND = "De engine heeft de opdracht geweigerd."
NIET_IN_INBOX = "Dit signaal staat niet in de inbox van uw RIEC."


def bij_status(status: int) -> str:
    return PER_STATUS.get(status, PER_STATUS[400] if 400 <= status < 500 else PER_STATUS[503])


def bij_code(code: str) -> str:
    return PER_CODE.get(code, ONBEKEND)
