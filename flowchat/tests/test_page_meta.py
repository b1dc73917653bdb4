from flowchat.page_meta import DESCRIPTION_MAX, TITLE_MAX, page_meta


def test_open_graph_wins_over_title_and_description():
    html = """<html><head><title>Plain</title>
    <meta property="og:title" content="OG title"><meta name="description" content="Plain description">
    <meta property="og:description" content="OG description"><meta property="og:site_name" content="Site">
    <meta property="og:image" content="/pic.png"></head></html>"""
    assert page_meta(html) == {
        "site_name": "Site",
        "title": "OG title",
        "description": "OG description",
        "image": "/pic.png",
    }


def test_title_and_description_without_open_graph():
    html = (
        "<title>  A\n page  </title><meta name=description content='About it'><meta name=twitter:image content=x.jpg>"
    )
    assert page_meta(html) == {"site_name": "", "title": "A page", "description": "About it", "image": "x.jpg"}


def test_hostile_texts_are_cleaned_and_capped():
    html = (
        '<meta property="og:title" content="<script>alert(1)</script> \u202etxt.exe\x07">'
        f'<meta property="og:description" content="{"d" * 100_000}">'
    )
    meta = page_meta(html)
    assert meta["title"] == "<script>alert(1)</script> txt.exe"  # kept as text: the templates escape it
    assert len(meta["description"]) == DESCRIPTION_MAX


def test_a_huge_title_is_capped():
    assert len(page_meta("<title>" + "t" * 100_000 + "</title>")["title"]) == TITLE_MAX


def test_junk_gives_empty_fields():
    assert page_meta("<<<>>><meta content><meta property=og:title>\x00\ufffd</") == {
        "site_name": "",
        "title": "",
        "description": "",
        "image": "",
    }
