"""The review report of a period and a scope, assembled once for the page, the PDF and the
spreadsheets: sections of key figures, charts (each with its data table) and tables.

Every count goes through ``indicators.displayed`` (the indicators) or ``scope.small`` (the
surveys) before it reaches a table, so the « < 5 » of small counts is the same in every
output; the charts are drawn from those tables and can tell no more than they do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import charts, indicators
from .charts import NUMBER, SHARE, TEXT, Chart, Column, Table
from .scope import Period, Scope, small


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    figures: list[tuple[str, str]] = field(default_factory=list)  # (value as shown, label)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # tables without a chart
    notes: list[str] = field(default_factory=list)
    free_texts: list[dict] = field(default_factory=list)
    free_texts_left_out: int = 0  # approved texts in the data files, not in the page or PDF
    sheets_only: list[Table] = field(default_factory=list)  # in the spreadsheets, not shown


@dataclass
class Report:
    period: Period
    scope: Scope
    empty: bool
    sections: list[Section]
    main_table: Table

    @property
    def tables(self) -> list[Table]:
        """Every table (one sheet each in ODS and XLSX): the main indicators first, then
        the page's tables in its order."""
        found = [self.main_table]
        for section in self.sections:
            found.extend(chart.table for chart in section.charts)
            found.extend(section.tables)
            found.extend(section.sheets_only)
        return found


# Surveys ------------------------------------------------------------------------------------

# The page and the PDF quote at most this many approved free texts per question (the data
# files hold them all): a national year can have thousands, which no committee reads in a
# PDF and which would make it hundreds of pages long.
FREE_TEXTS_SHOWN_PER_QUESTION = 12


def _quoted(free_texts: list[dict]) -> tuple[list[dict], int]:
    shown, per_question = [], {}
    for item in free_texts:
        n = per_question.get(item["question"], 0)
        if n < FREE_TEXTS_SHOWN_PER_QUESTION:
            shown.append(item)
        per_question[item["question"]] = n + 1
    return shown, len(free_texts) - len(shown)


# Share charts of a scale: from the lowest step to the highest, neutral fills (blue, grey
# dots, brown stripes, red cross-hatch) so that no step looks « good » or « bad » by colour.
SCALE_PALETTE = [4, 3, 1, 2]


def _survey_section(period: Period, scope: Scope) -> tuple[Section, int]:
    """The surveys' section, and how many questionnaires were answered (raw)."""
    from cartable.surveys.reports import summary

    data = summary(period, scope)
    kinds = dict(data["kinds"])
    section = Section(
        "questionnaires",
        "Questionnaires",
        intro=(
            "Les réponses aux questionnaires envoyés en fin de prêt et à mi-parcours des prêts "
            "longs, aux enseignants, aux familles, aux élèves et aux personnels hospitaliers. "
            "Les réponses sont enregistrées sans l'identité de la personne qui répond."
        ),
        figures=[
            (charts.format_value(small(data["responses"], scope)), "questionnaires reçus"),
        ],
    )
    section.free_texts, section.free_texts_left_out = _quoted(data["free_texts"])
    section.sheets_only.append(
        Table(
            "reponses-libres",
            f"Réponses libres relues et approuvées — {scope.label}, {period.label}",
            [Column("Question", TEXT), Column("Répondant", TEXT), Column("Réponse", TEXT)],
            [
                [item["question_label"], item["respondent_label"], item["text"]]
                for item in data["free_texts"]
            ],
            sheet="Réponses libres",
        )
    )
    received = Table(
        "questionnaires-recus",
        f"Questionnaires reçus par répondant — {scope.label}, {period.label}",
        [Column("Répondant", TEXT), Column("Questionnaires")],
        [[kinds[kind], small(n, scope)] for kind, n in data["by_kind"].items()],
        sheet="Questionnaires reçus",
    )
    section.charts.append(
        charts.bar_chart(
            "questionnaires-recus",
            "Questionnaires reçus par répondant",
            "Nombre de questionnaires reçus de chaque type de répondant ; le détail est dans "
            "le tableau qui suit.",
            received,
        )
    )
    # The answers, as one long table for the spreadsheets, and (when there are some) a share
    # chart per question (the adults' four steps) plus one for the pupils' faces.
    answered = data["responses"] > 0
    long_rows = []
    pupil_rows, pupil_steps = [], []
    for question, question_label in data["questions"]:
        adult_steps, adult_rows = [], []
        for kind, per_value in data["answers"][question].items():
            steps = data["scales"][kind][question]
            for value, words in steps:
                long_rows.append(
                    [question_label, kinds[kind], words, small(per_value.get(value, 0), scope)]
                )
            counts = [small(per_value.get(value, 0), scope) for value, _ in steps]
            if kind == "pupil":
                pupil_steps = [words for _, words in steps]
                pupil_rows.append([question_label, *counts])
            else:
                adult_steps = [words for _, words in steps]
                adult_rows.append([kinds[kind], *counts])
        table = Table(
            f"reponses-{question}",
            f"{question_label} : réponses des adultes — {scope.label}, {period.label}",
            [Column("Répondant", TEXT)] + [Column(words) for words in adult_steps],
            adult_rows,
            sheet=f"Réponses {question_label}",
        )
        if answered:
            section.charts.append(
                _scale_chart(
                    f"reponses-{question}",
                    f"{question_label} : réponses des adultes",
                    "Part de chaque réponse, de « "
                    + adult_steps[0]
                    + " » à « "
                    + adult_steps[-1]
                    + " », par type de répondant.",
                    table,
                )
            )
    pupils = Table(
        "reponses-eleves",
        f"Réponses des élèves (échelle de visages) — {scope.label}, {period.label}",
        [Column("Question", TEXT)] + [Column(words) for words in pupil_steps],
        pupil_rows,
        sheet="Réponses des élèves",
    )
    if answered:
        section.charts.append(
            _scale_chart(
                "reponses-eleves",
                "Réponses des élèves (échelle de visages)",
                "Part de chaque visage choisi par les élèves, pour chaque question.",
                pupils,
            )
        )
    if not answered:
        section.notes.append("Aucun questionnaire reçu pour cette période dans ce périmètre.")
    section.sheets_only.append(
        Table(
            "questionnaires",
            f"Toutes les réponses aux questionnaires — {scope.label}, {period.label}",
            [
                Column("Question", TEXT),
                Column("Répondant", TEXT),
                Column("Réponse", TEXT),
                Column("Nombre"),
            ],
            long_rows,
            sheet="Questionnaires",
        )
    )
    section.notes.append(
        "Les réponses libres ne figurent ici qu'après relecture et approbation par un "
        "coordonnateur."
    )
    return section, data["responses"]


def _scale_chart(key: str, title: str, description: str, table: Table) -> Chart:
    return charts.share_chart(key, title, description, table, palette=SCALE_PALETTE)


def build(period: Period, scope: Scope) -> Report:
    """The report of ``period`` within ``scope`` (whose rights were checked before)."""
    computed = indicators.compute(period, scope)
    shown = indicators.displayed(computed, scope)
    sections, main_table, has_data = indicator_sections(period, scope, computed, shown)
    surveys, responses = _survey_section(period, scope)
    sections.append(surveys)
    return Report(period, scope, not has_data and not responses, sections, main_table)


# Indicators -------------------------------------------------------------------------------

QUALITY_PALETTE = [0, 1, 2]  # good: green, plain; degraded: brown stripes; poor: red cross


def _percent(value):
    """A share (0–1) as a percentage; « < 5 » and None as they are."""
    return round(value * 100, 1) if isinstance(value, int | float) else value


def _hidden_share(count, share):
    """A share whose own count is hidden is hidden too (else share × total tells it)."""
    return indicators.HIDDEN if count == indicators.HIDDEN else _percent(share)


def indicator_sections(period: Period, scope: Scope, computed, shown):
    """The indicators' sections, the main indicators table, and whether there is any data."""
    from cartable.fleet.models import Kit, Loan

    where = f"{scope.label}, {period.label}"
    d = shown
    sections = []

    # Loans and pupils.
    loans = Table(
        "prets",
        f"Prêts de la période — {where}",
        [Column("Prêts", TEXT), Column("Nombre")],
        [
            ["Demandés", d["loans_requested"]],
            ["Démarrés", d["loans_started"]],
            ["Actifs", d["loans_active"]],
            ["Terminés", d["loans_ended"]],
        ],
        sheet="Prêts",
    )
    levels = Table(
        "niveaux",
        f"Élèves accompagnés par niveau — {where}",
        [Column("Niveau", TEXT), Column("Élèves")],
        [
            [label, d["pupils_by_level_group"][key]]
            for key, label in indicators.LEVEL_GROUP_LABELS.items()
        ],
        sheet="Niveaux",
    )
    places = Table(
        "lieux",
        f"Élèves accompagnés par lieu — {where}",
        [Column("Lieu", TEXT), Column("Élèves")],
        [[label, d["pupils_by_place"][key]] for key, label in Loan.PlaceKind.choices],
        sheet="Lieux",
    )
    sections.append(
        Section(
            "prets",
            "Prêts et élèves accompagnés",
            intro=(
                "Un prêt est demandé le jour de la demande, démarré à sa première séance ou "
                "à son installation complète, actif s'il a été prêté pendant la période, "
                "terminé le jour de sa fin. Un élève est compté une fois même avec plusieurs "
                "prêts."
            ),
            figures=[
                (charts.format_value(d["pupils_served"]), "élèves accompagnés"),
                (charts.format_value(d["loans_active"]), "prêts actifs"),
            ],
            charts=[
                charts.bar_chart(
                    "prets",
                    "Prêts demandés, démarrés, actifs et terminés",
                    "Nombre de prêts demandés, démarrés, actifs et terminés pendant la période.",
                    loans,
                ),
                charts.bar_chart(
                    "niveaux",
                    "Élèves accompagnés par niveau",
                    "Nombre d'élèves accompagnés dans chaque groupe de niveaux, de la "
                    "maternelle à l'enseignement agricole.",
                    levels,
                ),
                charts.bar_chart(
                    "lieux",
                    "Élèves accompagnés par lieu",
                    "Nombre d'élèves accompagnés à l'hôpital, à domicile et en unité "
                    "d'enseignement à l'hôpital.",
                    places,
                ),
            ],
        )
    )

    # Use of the live link.
    usage = Table(
        "usage",
        f"Usage des séances en direct — {where}",
        [Column("Mesure", TEXT), Column("Valeur", NUMBER)],
        [
            ["Séances en direct", d["lessons"]],
            ["Heures en direct (présence de l'élève)", d["live_hours"]],
            ["Semaines de prêt", d["loan_weeks"]],
            ["Heures en direct par prêt et par semaine", d["live_hours_per_loan_week"]],
            ["Séances par prêt et par semaine", d["lessons_per_loan_week"]],
            ["Durée médiane d'une séance (minutes)", d["lesson_median_minutes"]],
            ["Prêts ayant eu leur première séance", d["first_lesson_loans"]],
            [
                "De la demande à la première séance, médiane (jours)",
                d["request_to_first_lesson_median_days"],
            ],
            [
                "De la demande à la première séance, moyenne (jours)",
                d["request_to_first_lesson_mean_days"],
            ],
        ],
        sheet="Usage",
    )
    sections.append(
        Section(
            "usage",
            "Usage des séances en direct",
            intro=(
                "Les heures en direct sont le temps de présence de l'élève dans les séances "
                "de sa classe ; les moyennes sont rapportées aux semaines de prêt, vacances "
                "comprises."
            ),
            figures=[
                (charts.format_value(d["lessons"]), "séances en direct"),
                (
                    charts.format_value(d["live_hours_per_loan_week"], NUMBER),
                    "heures par prêt et par semaine",
                ),
                (
                    charts.format_value(d["lesson_median_minutes"], NUMBER),
                    "minutes : durée médiane d'une séance",
                ),
                (
                    charts.format_value(d["request_to_first_lesson_median_days"], NUMBER),
                    "jours de la demande à la première séance (médiane)",
                ),
            ],
            tables=[usage],
        )
    )

    # Connection quality.
    quality = Table(
        "connexion",
        f"Qualité de connexion des séances, côté élève — {where}",
        [Column("Connexion", TEXT), Column("Séances"), Column("Part des séances (%)", SHARE)],
        [
            ["Bonne", d["quality_good"], _hidden_share(d["quality_good"], d["share_good"])],
            [
                "Dégradée",
                d["quality_degraded"],
                _hidden_share(d["quality_degraded"], d["share_degraded"]),
            ],
            ["Mauvaise", d["quality_poor"], _hidden_share(d["quality_poor"], d["share_poor"])],
            [
                "Relayée (par le serveur relais)",
                d["quality_relayed"],
                _hidden_share(d["quality_relayed"], d["share_relayed"]),
            ],
            ["Sans mesure", d["lessons_without_quality"], None],
        ],
        sheet="Qualité",
    )
    sections.append(
        Section(
            "connexion",
            "Qualité de connexion",
            intro=(
                "Pour chaque séance, la connexion de l'élève est bonne, dégradée ou mauvaise "
                "selon la catégorie la plus fréquente de ses mesures (à égalité, la moins "
                "bonne) ; une séance est relayée quand plus de la moitié de ses mesures "
                "passent par le serveur relais. Les parts se rapportent aux séances mesurées."
            ),
            figures=[
                (charts.format_value(d["quality_lessons"]), "séances mesurées"),
                (
                    charts.format_value(
                        _hidden_share(d["quality_relayed"], d["share_relayed"]), SHARE
                    ),
                    "des séances relayées",
                ),
            ],
            charts=[
                charts.share_bar(
                    "connexion",
                    "Qualité de connexion des séances, côté élève",
                    "Part des séances mesurées dont la connexion de l'élève était bonne, "
                    "dégradée ou mauvaise.",
                    quality,
                    "Séances mesurées",
                    rows=[0, 1, 2],
                    palette=QUALITY_PALETTE,
                )
            ],
        )
    )

    # Kits.
    generations = Kit.Generation.choices
    kit_rows = [
        [
            label,
            *(d["kits_by_status"][status][g] for g, _ in generations),
            small(sum(computed.kits_by_status[status].values()), scope),
        ]
        for status, label in Kit.Status.choices
    ]
    kit_rows.append(
        ["Total", *(d["kits_by_generation"][g] for g, _ in generations), d["kits_total"]]
    )
    kits = Table(
        "cartables",
        f"Cartables par statut et par génération, à ce jour — {scope.label}",
        [Column("Statut", TEXT), *(Column(label) for _, label in generations), Column("Total")],
        kit_rows,
        sheet="Cartables",
    )
    sections.append(
        Section(
            "cartables",
            "Cartables",
            intro=(
                "Les cartables sont comptés à ce jour, quelle que soit la période : dans une "
                "académie ou un département, ceux qu'y tient un prêt."
            ),
            figures=[
                (charts.format_value(d["kits_total"]), "cartables"),
                (charts.format_value(d["offline_kits"]), "cartables en prêt hors ligne"),
                (charts.format_value(d["offline_devices"]), "appareils de ces cartables"),
            ],
            tables=[kits],
        )
    )

    main = Table(
        "indicateurs",
        f"Indicateurs principaux — {where}",
        [Column("Indicateur", TEXT), Column("Valeur", NUMBER)],
        [
            ["Prêts demandés", d["loans_requested"]],
            ["Prêts démarrés", d["loans_started"]],
            ["Prêts actifs", d["loans_active"]],
            ["Prêts terminés", d["loans_ended"]],
            ["Élèves accompagnés", d["pupils_served"]],
            *(
                [f"Élèves accompagnés — {label}", d["pupils_by_level_group"][key]]
                for key, label in indicators.LEVEL_GROUP_LABELS.items()
            ),
            *(
                [f"Élèves accompagnés — {label}", d["pupils_by_place"][key]]
                for key, label in Loan.PlaceKind.choices
            ),
            *usage.rows,
            ["Séances mesurées (connexion)", d["quality_lessons"]],
            *(
                [f"Part des séances : connexion {row[0].lower()} (%)", row[2]]
                for row in quality.rows[:4]
            ),
            ["Cartables (à ce jour)", d["kits_total"]],
            ["Cartables en prêt hors ligne (à ce jour)", d["offline_kits"]],
            ["Appareils hors ligne de ces cartables", d["offline_devices"]],
        ],
        sheet="Indicateurs",
    )
    return sections, main, computed.has_data
