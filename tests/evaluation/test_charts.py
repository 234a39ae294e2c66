"""The report's SVG charts: accessible images that say no more than their tables, drawn
without any style attribute (CSP), readable without colour."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from cartable.evaluation.charts import (
    SHARE,
    TEXT,
    Column,
    Table,
    bar_chart,
    format_value,
    share_bar,
    share_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart) -> ElementTree.Element:
    return ElementTree.fromstring(str(chart.svg))


def levels(*rows) -> Table:
    return Table("niveaux", "Élèves par niveau", [Column("Niveau", TEXT), Column("Élèves")], rows)


def test_a_bar_chart_is_a_named_described_image_without_style():
    chart = bar_chart(
        "niveaux",
        "Élèves par niveau",
        "Nombre d'élèves par niveau.",
        levels(["Collège", 12], ["Lycée <pro>", 6]),
    )
    svg = parse(chart)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "niveaux-title niveaux-desc"
    assert svg.find(f"{SVG}title").text == "Élèves par niveau"
    assert svg.find(f"{SVG}title").get("id") == "niveaux-title"
    assert svg.find(f"{SVG}desc").text == "Nombre d'élèves par niveau."
    assert "style=" not in str(chart.svg)
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Lycée <pro>" in texts  # escaped in the markup, whole in the image
    assert "12" in texts and "6" in texts
    bars = [r for r in svg.iter(f"{SVG}rect")]
    widths = sorted(float(r.get("width")) for r in bars)
    assert len(bars) == 2 and widths[1] == 2 * widths[0]  # bars in proportion


def test_a_hidden_count_draws_no_bar_and_shows_its_text():
    chart = bar_chart(
        "n", "Élèves", "…", levels(["Collège", 12], ["Maternelle", "< 5"], ["CAP", 0])
    )
    svg = parse(chart)
    assert len(list(svg.iter(f"{SVG}rect"))) == 1
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "< 5" in texts and "0" in texts


def test_shares_have_patterns_a_legend_and_their_values_in_words():
    table = Table(
        "q",
        "Connexion",
        [Column("Côté", TEXT), Column("Bonne"), Column("Dégradée"), Column("Mauvaise")],
        [["Élève", 60, 30, 10], ["Classe", "< 5", 6, 7], ["Rien", 0, 0, 0]],
    )
    chart = share_chart("q", "Connexion", "Parts des séances.", table)
    markup = str(chart.svg)
    svg = parse(chart)
    # Two patterned fills (stripes, cross-hatch) besides the plain one.
    assert len(list(svg.iter(f"{SVG}pattern"))) == 2
    assert 'fill="url(#q-fill-1)"' in markup and 'fill="url(#q-fill-2)"' in markup
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert {"Bonne", "Dégradée", "Mauvaise"} <= set(texts)
    assert "Bonne 60,0\u00a0% · Dégradée 30,0\u00a0% · Mauvaise 10,0\u00a0%" in texts
    # A row with a hidden count is not drawn (its shares would tell it), nor an empty one.
    assert "Effectifs trop petits pour être montrés." in texts
    assert "Aucune donnée." in texts
    assert not any("Classe" in (t or "") and "%" in (t or "") for t in texts)
    assert "style=" not in markup


def test_a_single_bar_of_the_rows_of_a_table():
    table = Table(
        "c",
        "Connexion",
        [Column("Connexion", TEXT), Column("Séances"), Column("Part", SHARE)],
        [["Bonne", 15, 75.0], ["Dégradée", 5, 25.0], ["Relayée", 9, 45.0]],
    )
    chart = share_bar("c", "Connexion", "…", table, "Séances mesurées", rows=[0, 1])
    texts = [t.text for t in parse(chart).iter(f"{SVG}text")]
    assert "Bonne 75,0\u00a0% · Dégradée 25,0\u00a0%" in texts
    assert "Relayée" not in texts


def test_ids_are_unique_to_each_chart():
    one = share_chart("a", "A", "…", levels(["x", 5]))
    two = share_chart("b", "B", "…", levels(["x", 5]))
    ids = re.findall(r' id="([^"]+)"', str(one.svg) + str(two.svg))
    assert len(ids) == len(set(ids))


def test_values_are_written_in_french():
    assert format_value(1234) == "1\u00a0234"
    assert format_value(62.5, SHARE) == "62,5\u00a0%"
    assert format_value(0.25) == "0,2"
    assert format_value(None) == "—"
    assert format_value("< 5") == "< 5"
