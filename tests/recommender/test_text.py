import pytest

from recommender.ml.text import attributes_text, fill_template, item_text, user_text

DEFAULT = "{title}. {categories}. {year}. {description} {attributes}"


def test_default_item_text_for_toy_story():
    text = item_text(DEFAULT, title="Toy Story", categories=["Animation", "Children's", "Comedy"], year=1995)
    assert text == "Toy Story. Animation, Children's, Comedy. 1995."


def test_item_text_with_every_part():
    text = item_text(
        DEFAULT,
        title="  Heat ",
        categories=["Crime", "Thriller"],
        year=1995,
        description="A cop\n chases   a thief.",
        attributes={"runtime": 170, "director": "Michael Mann", "cast": ["Pacino", "De Niro"]},
    )
    assert text == (
        "Heat. Crime, Thriller. 1995. A cop chases a thief. cast: Pacino, De Niro; director: Michael Mann; runtime: 170"
    )


def test_item_text_drops_empty_parts_with_their_separators():
    assert item_text(DEFAULT, title="Heat", year=1995) == "Heat. 1995."
    assert item_text(DEFAULT, title="Heat", categories=["Crime"]) == "Heat. Crime."
    assert item_text(DEFAULT, title="Heat", description="Cops.") == "Heat. Cops."
    assert item_text(DEFAULT, title="Why?", year=2001) == "Why? 2001."


def test_attributes_are_sorted_and_empty_values_left_out():
    assert attributes_text({"b": "", "a": None, "c": [], "d": 0, "e": ["x", ""]}) == "d: 0; e: x"
    assert attributes_text(None) == ""


def test_custom_template():
    assert fill_template("[{year}] {title}!", {"year": "1995", "title": "Heat"}) == "[1995] Heat!"
    assert item_text("{categories}: {title}", title="Heat") == "Heat"


def test_unknown_template_field_is_refused():
    with pytest.raises(KeyError):
        item_text("{title} {rating}", title="Heat")


def test_full_user_text():
    text = user_text(
        about="I love old films.",
        interests=["Comedy", "Film-Noir"],
        age=30,
        gender="F",
        occupation="engineer",
        location="London",
    )
    assert text == (
        "I love old films. Interested in Comedy, Film-Noir. A 30-year-old woman working as engineer, from London."
    )


@pytest.mark.parametrize(
    "fields,expected",
    [
        ({}, ""),
        ({"about": "  Jazz\n fan. "}, "Jazz fan."),
        ({"interests": ["Drama"]}, "Interested in Drama."),
        ({"age": 24, "gender": "M"}, "A 24-year-old man."),
        ({"gender": "O", "location": "Paris"}, "A person from Paris."),
        ({"gender": "", "age": 40}, "A 40-year-old person."),
        ({"occupation": "writer"}, "A person working as writer."),
        ({"age": 61, "gender": "M", "location": "85711"}, "A 61-year-old man from 85711."),
    ],
)
def test_user_text_omits_empty_parts(fields, expected):
    assert user_text(**fields) == expected
