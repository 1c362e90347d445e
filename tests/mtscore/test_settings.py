"""mtscore.settings and errors: one reader for settings files, one error base."""
import pytest

from mtscore import InputError, Section, read_toml


class StudyError(InputError):
    pass


def test_error_names_file_line_and_key():
    err = InputError("must be positive", "study.toml", 4, "phonons.mesh")
    assert str(err) == "study.toml:4: phonons.mesh: must be positive"
    assert err.field == "phonons.mesh"
    assert str(InputError("bad").located("CONTROL", 7)) == "CONTROL:7: bad"
    assert str(InputError("bad", "GEOMETRY", 2).located("CONTROL", 7)) == "GEOMETRY:2: bad"


@pytest.mark.parametrize("value, problem", [
    (float("inf"), "must be a finite number"), (float("nan"), "must be a finite number"),
    (-1.0, "must be positive"), (1e300, "must be at most"), (True, "expected a number")])
def test_numbers_are_finite_and_bounded(value, problem):
    sec = Section({"x": value}, "material", "study.toml", StudyError)
    with pytest.raises(StudyError, match=problem) as info:
        sec.get("x", (int, float), positive=True, maximum=1e3)
    assert str(info.value).startswith("study.toml: material.x: ")


def test_lists_unknown_keys_and_tables(tmp_path):
    sec = Section({"mesh": [11, 11, float("inf")], "mseh": 1}, "", "s.toml")
    with pytest.raises(InputError, match="mesh: must be a finite number"):
        sec.get("mesh", (int, float), length=3)
    sec = Section({"mesh": [11, 11, 11], "mseh": 1, "t": {"a": 1}}, "", "s.toml")
    assert sec.get("mesh", int, length=3) == (11, 11, 11)
    assert sec.table("t").get("a", int) == 1
    with pytest.raises(InputError, match="s.toml: mseh: unknown key"):
        sec.check_unknown()


def test_read_toml_names_the_file(tmp_path):
    binary = tmp_path / "study.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(StudyError, match="study.toml: not a text file"):
        read_toml(binary, StudyError)
    bad = tmp_path / "bad.toml"
    bad.write_text("[material\n")
    with pytest.raises(InputError, match="bad.toml: invalid TOML"):
        read_toml(bad)
    with pytest.raises(InputError, match="cannot read"):
        read_toml(tmp_path / "missing.toml")
    ok = tmp_path / "ok.toml"
    ok.write_text("a = 1\n")
    assert read_toml(ok) == {"a": 1}


def test_logging_shows_warnings_and_with_verbose_info():
    import io

    from mtscore import configure_logging, get_logger

    log, stream = get_logger("tests.mtscore"), io.StringIO()
    configure_logging(False, stream)
    log.info("hidden")
    log.warning("shown")
    configure_logging(True, stream)
    log.info("now shown")
    assert stream.getvalue() == "mts: shown\nmts: now shown\n"
