"""The registry: names in teaching order, lookups, and the error for a typo."""

import pytest

import landscapes


def test_names_is_a_tuple_of_registered_names() -> None:
    names = landscapes.names()
    assert isinstance(names, tuple)
    assert len(set(names)) == len(names)
    assert all(landscapes.get(n).name == n for n in names)


@pytest.mark.parametrize("bad", ["rosenbrok", "", "Rosenbrock", None, 3])
def test_unknown_name_lists_the_valid_ones(bad: object) -> None:
    with pytest.raises(ValueError) as excinfo:
        landscapes.get(bad)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert repr(bad) in message
    assert all(n in message for n in landscapes.names())


def test_landscapes_are_immutable() -> None:
    f = landscapes.get("rosenbrock")
    with pytest.raises(AttributeError):
        f.bounds = ((0.0, 1.0), (0.0, 1.0))  # type: ignore[misc]
    m = f.minima[0]
    assert (m.x, m.y, m.value, m.kind) == (1.0, 1.0, 0.0, "global")


def test_parse_gives_a_landscape_from_typed_text() -> None:
    import pytest

    bowl = landscapes.parse("x**2/20 + y**2", bounds=((-3, 3), (-3, 3)))
    assert bowl.minima[0].kind == "global" and abs(bowl.minima[0].x) < 1e-9
    assert float(bowl.value([2.0, 1.0])) == 1.2
    with pytest.raises(ValueError, match="unknown name 'z' at column 8"):
        landscapes.parse("x**2 + z")
