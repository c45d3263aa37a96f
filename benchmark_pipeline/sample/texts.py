"""Free text of the synthetic respondents: comments and own "Andet" answers.

Everything here is invented. No text names a real person; the one CPR-like number is not a valid CPR
number (its date is 1 February 1903 and it fails the modulus-11 check every number of that era passes),
and the e-mail domains are reserved for examples (RFC 2606), so the privacy masking has something to
catch without any real personal data in the repository. Every text is encodable in Windows-1252.
"""

from __future__ import annotations

COMMENTS = (
    "Vi mangler tid til at arbejde med data i hverdagen.",
    "Ledelsen taler om data, men prioriterer det ikke i praksis.",
    "Det er svært at få adgang til data fra fagsystemerne.",
    "Vi har gode erfaringer med BBR-data i planlægningen.",
    "Mere samarbejde på tværs af forvaltningerne ville hjælpe.",
    "GDPR fylder meget, når vi vil kombinere data.",
    "Vores dashboards bliver ikke brugt nok af fagfolkene.",
    "Der er for få medarbejdere med datakompetencer.",
    "Vi er i gang med et pilotprojekt om prognoser for ældreområdet.",
    "Spørgeskemaet var lidt langt, men relevant.",
    "Data om børn og unge er spredt over mange systemer.",
    "Økonomi er ikke barrieren; det er prioriteringen.",
    "Vi savner fælles definitioner på tværs af kommunerne.",
    "Godt initiativ at lave en benchmark år for år.",
)

# Free text that privacy masking must catch: a CPR-like number (not a valid CPR number) and e-mail addresses.
PII_COMMENTS = (
    "Kontakt mig gerne på data.team@example.com - jeg har testet med 010203-1234 i et testsystem.",
    "Skriv til analyse@example.org, hvis I vil høre mere. Vores testperson er 0102031234.",
)

ANDET_TEXTS = {
    "fagomraade": ("Kultur og fritid", "Borgerservice", "HR og personale", "Klima og bæredygtighed"),
    "stilling": ("Konsulent", "Projektleder", "Studentermedhjælper", "Chefkonsulent"),
    "use_contexts": ("Borgerdialog", "Tilsyn", "Kvalitetsrapporter", "Prognoser"),
    "data_sources": ("Egne registreringer", "Geodata", "Spørgeskemaer", "KMD-udtræk"),
}
