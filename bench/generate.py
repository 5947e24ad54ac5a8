"""Deterministic synthetic pipelines for benchmarks: config.yaml + N realistic lead files.

    python bench/generate.py 10000 .bench/corpus-10k

The same N and seed give byte-identical files on every run and machine (one ``random.Random``
per lead, seeded from the seed and the lead's number; no clock, no hash randomisation).
A lead is ~1.1 KB: 17-key front matter with a nested contact and 1-5 history entries, then
6-40 lines of German/English notes with headings, lists, links, emphasis, quotes and some tables.
Status mix: 55 % active, 15 % potential, 12 % won, 12 % lost, 6 % cancelled. All leads are
valid against the generated config; some are stale or overdue (as in a real pipeline), so a
build prints warnings.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

TODAY = date(2026, 11, 22)
SEED = 20261122
STAGES = [("erstkontakt", "Erstkontakt", 10), ("qualifiziert", "Qualifiziert", 25), ("angebot", "Angebot", 50),
          ("verhandlung", "Verhandlung", 75), ("zusage", "Mündliche Zusage", 90)]
OWNERS = [("anna", "Anna Becker"), ("ben", "Ben Schulz"), ("clara", "Clara Wagner"), ("david", "David Fischer"),
          ("elif", "Elif Yılmaz"), ("felix", "Felix Neumann"), ("greta", "Greta Braun"), ("hannes", "Hannes Vogel"),
          ("ines", "Inés García"), ("jan", "Jan Kowalski"), ("katrin", "Katrin Lange"), ("luis", "Luis Martin")]
SOURCES = ["Empfehlung", "Website-Anfrage", "Ausschreibung", "Bestandskunde", "Messe", "LinkedIn", "Partner"]
STATUS_WEIGHTS = [("active", 55), ("potential", 15), ("won", 12), ("lost", 12), ("cancelled", 6)]
COMPANY_A = ["Nord", "Elb", "Rhein", "Alpen", "Hafen", "Stadt", "Wald", "Berg", "Sonnen", "Blau", "Grün", "Fluss",
             "Brücken", "Kiel", "Main", "Isar", "Spree", "Weser", "Bright", "North", "Cloud", "Pixel", "Data", "Smart"]
COMPANY_B = ["werk", "logistik", "bau", "markt", "haus", "energie", "systems", "labs", "versand", "medien", "technik",
             "finanz", "kontor", "works", "soft", "mobil", "design", "wohnen", "reisen", "pharma"]
COMPANY_C = ["GmbH", "AG", "GmbH & Co. KG", "SE", "e. V.", "Ltd.", "KGaA", "UG (haftungsbeschränkt)"]
PROJECTS = ["Relaunch der Website", "Kundenportal", "Onboarding-App", "Shop-Migration", "Intranet", "Datenplattform",
            "Buchungsstrecke", "Design-System", "Content-Hub", "Analytics-Setup", "Mobile App", "API-Gateway",
            "Website relaunch", "Customer portal", "Self-service app", "Reporting dashboard"]
FIRST = ["Thomas", "Sabine", "Michael", "Julia", "Andreas", "Petra", "Stefan", "Claudia", "Mehmet", "Sarah",
         "Tobias", "Nina", "Olga", "Lukas", "Emma", "James", "Chloé", "Björn", "Zoë", "Jürgen"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch",
        "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Smith", "O'Brien", "Nowak", "Öztürk", "Dubois"]
ROLES = ["Geschäftsführung", "Head of Marketing", "CTO", "Leitung Vertrieb", "Product Owner", "Einkauf", "IT-Leitung",
         "Head of E-Commerce", "Marketing Manager", "COO"]
TAGS = ["ux", "seo", "shop", "app", "relaunch", "b2b", "b2c", "cloud", "wartung", "hosting", "retainer", "ausschreibung",
        "öffentlich", "mittelstand", "konzern", "startup", "design", "content", "daten", "ki"]
REASONS_LOST = ["Preis zu hoch", "Wettbewerber mit Inhouse-Team", "Kein Budget im Geschäftsjahr", "Lost on price",
                "Went with an incumbent agency", "Projekt intern umgesetzt"]
REASONS_CANCELLED = ["Projekt gestoppt", "Umstrukturierung beim Kunden", "Budget gestrichen", "Project put on hold"]
NEXT_STEPS = ["Angebot nachfassen", "Workshop-Termin vereinbaren", "Referenzcall anbieten", "Follow up on the proposal",
              "Vertragsentwurf schicken", "Schedule a demo", "Budgetfreigabe abwarten", "Rückfragen zum Angebot klären"]
EVENTS = ["Telefonat", "Workshop", "Videocall", "Angebot verschickt", "Kick-off", "Call", "Meeting vor Ort",
          "E-Mail", "Pitch", "Demo"]
SENTENCES = [
    "Der Kunde möchte die **Conversion-Rate** deutlich steigern.",
    "Budget ist für das erste Quartal freigegeben, Entscheidung liegt bei der *Geschäftsführung*.",
    "They asked for a fixed price and a clear timeline.",
    "Wir haben die bestehenden Systeme analysiert, das CMS ist veraltet.",
    "Hauptansprechpartner ist sehr engagiert, der Einkauf bremst.",
    "Concerns about hosting in the EU; we explained our setup.",
    "Referenzprojekt [Kundenportal](https://example.com/referenzen/portal) hat überzeugt.",
    "Zeitplan ist ambitioniert, aber machbar, wenn die Inhalte rechtzeitig kommen.",
    "They compare us with two other agencies; pricing will decide.",
    "Wichtig: Barrierefreiheit nach *BITV 2.0* ist Pflicht.",
    "Das Team wünscht sich ein Design-System, das auch für die App funktioniert.",
    "Follow-up mail sent with the `scope` document attached.",
    "Siehe Protokoll im [Wiki](https://wiki.example.com/vertrieb/protokolle).",
    "Mögliche Erweiterung um einen Wartungsvertrag über ~2.000 € im Monat.",
]
BULLETS = [
    "Anforderungen an das Tracking besprochen", "Offene Frage: Schnittstelle zum ERP", "Timeline: go-live before summer",
    "Preisrahmen bestätigt", "Entscheidung bis Monatsende", "Needs SSO via Azure AD", "Wettbewerb: zwei Agenturen",
    "Hosting in Frankfurt gewünscht", "Inhalte liefert der Kunde", "Sign-off by the board required",
    "Rabatt von 5 % ins Gespräch gebracht", "Pilot mit einem Standort",
]


def slug(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", "é": "e"})
    cleaned = "".join(c if c.isalnum() else "-" for c in text.lower().translate(table))
    return "-".join(part for part in cleaned.split("-") if part)


def config_text() -> str:
    lines = ["# Synthetic benchmark pipeline (bench/generate.py)", "title: Benchmark GmbH – Vertriebs-Pipeline",
             "currency: EUR", "locale: de_DE", "", "stages:"]
    for index, (stage_id, name, probability) in enumerate(STAGES):
        lines += [f"  - id: {stage_id}", f"    name: {name}", f"    probability: {probability}"]
        if index >= 3:
            lines.append("    stale_after_days: 21")
    lines += ["", "stale_after_days: 45", "", "team:"]
    for index, (member_id, name) in enumerate(OWNERS):
        lines += [f"  - id: {member_id}", f"    name: {name}", f"    email: {member_id}@benchmark.example"]
        lines.append(f"    role: {'manager' if index < 2 else 'member'}")
    lines += ["", "sources:"] + [f"  - {source}" for source in SOURCES]
    lines += ["", "targets:", "  2026-Q3: 1500000", "  2026-Q4: 1800000", "  2026-11: 600000", "  2026-12: 700000",
              "  2027-Q1: 1600000", "  2027-Q2: 1700000", "", "exchange_rates:", "  CHF: 1.07", "  USD: 0.87", "",
              "qualification: [budget, authority, need, timeline]", ""]
    return "\n".join(lines)


def _pick_status(rng: random.Random) -> str:
    roll = rng.randrange(100)
    for status, weight in STATUS_WEIGHTS:
        if roll < weight:
            return status
        roll -= weight
    raise AssertionError("weights add up to 100")


def _quote(text: str) -> str:
    return f'"{text}"' if any(c in text for c in ":#&*'\"") or text[0] in "-?[{!|>%@`" else text


def lead_text(number: int, seed: int = SEED) -> tuple[str, str]:
    """(relative path, file text) of lead ``number``; depends only on the number and the seed."""
    rng = random.Random(f"{seed}:{number}")
    status = _pick_status(rng)
    company = f"{rng.choice(COMPANY_A)}{rng.choice(COMPANY_B)} {rng.choice(COMPANY_C)}"
    project = rng.choice(PROJECTS)
    owner = rng.choice(OWNERS)[0]
    created = TODAY - timedelta(days=rng.randrange(20, 900 if status in ("won", "lost", "cancelled") else 400))
    n_history = rng.randint(1, 5)
    stage_index = min(n_history - 1, len(STAGES) - 1)
    fm: list[str] = ["---", f"title: {_quote(f'{project} – {company}')}", f"company: {_quote(company)}",
                     f"owner: {owner}"]
    if status != "active":
        fm.append(f"status: {status}")
    history_dates = sorted(created + timedelta(days=rng.randrange(0, max(1, (TODAY - created).days)))
                           for _ in range(n_history))
    history_dates[0] = created
    history = [(history_dates[i], STAGES[min(i, len(STAGES) - 1)][0]) for i in range(n_history)]
    closed_on = None
    if status in ("won", "lost", "cancelled"):
        closed_on = min(TODAY - timedelta(days=1), history[-1][0] + timedelta(days=rng.randrange(1, 60)))
        history.append((closed_on, status))
    if status in ("active", "won", "potential") or rng.random() < 0.7:
        fm.append(f"stage: {STAGES[stage_index][0]}" if status == "active" else f"value: {rng.randrange(20, 900) * 500}")
        if status == "active":
            fm.append(f"value: {rng.randrange(20, 900) * 500}")
    currency = rng.choices(["EUR", "CHF", "USD"], [90, 6, 4])[0]
    if currency != "EUR":
        fm.append(f"currency: {currency}")
    if status == "active":
        if rng.random() < 0.15:
            fm.append(f"probability: {rng.choice([5, 15, 30, 40, 60, 85])}")
        fm.append(f"expected_close: {TODAY + timedelta(days=rng.randrange(-10, 240))}")
    if closed_on is not None:
        fm.append(f"closed_on: {closed_on}")
    if status in ("lost", "cancelled"):
        fm.append(f"reason: {rng.choice(REASONS_LOST if status == 'lost' else REASONS_CANCELLED)}")
    last_contact = min(TODAY, history[-1][0] + timedelta(days=rng.randrange(0, 40)))
    if status in ("active", "potential"):  # most open leads were touched recently; some are stale
        last_contact = max(history[-1][0], TODAY - timedelta(days=rng.randrange(0, 50)))
    fm += [f"created: {created}", f"last_contact: {last_contact}"]
    if status in ("active", "potential"):
        fm.append(f"follow_up: {TODAY + timedelta(days=rng.randrange(-5, 30))}")
        fm.append(f"next_step: {rng.choice(NEXT_STEPS)}")
    fm.append(f"source: {rng.choice(SOURCES)}")
    fm.append(f"tags: [{', '.join(rng.sample(TAGS, rng.randint(1, 4)))}]")
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"{slug(first)}.{slug(last)}@{slug(company.split()[0])}.example"
    fm += ["contact:", f"  name: {_quote(f'{first} {last}')}", f"  role: {rng.choice(ROLES)}", f"  email: {email}",
           f"  phone: +49 {rng.randrange(30, 999)} {rng.randrange(100000, 9999999)}"]
    fm += ["qualification:"] + [f"  {key}: {str(rng.random() < 0.6).lower()}"
                                for key in ("budget", "authority", "need", "timeline")]
    fm.append("history:")
    for when, stage in history:
        fm += [f"  - date: {when}", f"    stage: {stage}"]
    fm.append("---")
    body = _notes(rng, company, history)
    folder = "leads" if status in ("active", "potential") else f"leads/archiv/{closed_on.year}"  # type: ignore[union-attr]
    return f"{folder}/{number:06d}-{slug(company)[:40]}.md", "\n".join(fm) + "\n\n" + body


def _notes(rng: random.Random, company: str, history: list[tuple[date, str]]) -> str:
    target = rng.randint(6, 40)
    out = [f"{rng.choice(SENTENCES)} {rng.choice(SENTENCES)}", ""]
    dates = [when for when, _ in history]
    index = 0
    while len(out) + 4 < target:
        when = dates[min(index, len(dates) - 1)] + timedelta(days=index * 3)
        out += [f"## {when} {rng.choice(EVENTS)}", ""]
        kind = rng.random()
        if kind < 0.12 and len(out) + 6 <= target + 4:
            out += ["| Posten | Aufwand | Preis |", "|---|---:|---:|"]
            out += [f"| {rng.choice(BULLETS)} | {rng.randint(2, 40)} PT | {rng.randrange(2, 90) * 500} € |"
                    for _ in range(rng.randint(2, 4))]
        elif kind < 0.22:
            out.append(f"> {rng.choice(SENTENCES)}")
        elif kind < 0.6:
            out += [f"- {rng.choice(BULLETS)}" for _ in range(rng.randint(2, 5))]
        else:
            out.append(" ".join(rng.sample(SENTENCES, rng.randint(1, 3))))
        out.append("")
        index += 1
    out.append(f"Kontakt über {company}; *Stand {dates[-1]}*.")
    return "\n".join(out) + "\n"


def generate(count: int, target: Path, seed: int = SEED) -> str:
    """Write the pipeline into ``target`` (replaced); return a sha256 over all files (for reproducibility checks)."""
    if target.exists():
        shutil.rmtree(target)
    digest = hashlib.sha256()
    files = [("config.yaml", config_text())] + [lead_text(number, seed) for number in range(1, count + 1)]
    for relative, text in files:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(data)
        digest.update(relative.encode() + b"\0" + data)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of leads")
    parser.add_argument("target", type=Path, help="output folder (replaced)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    print(generate(args.count, args.target, args.seed))


if __name__ == "__main__":
    main()
