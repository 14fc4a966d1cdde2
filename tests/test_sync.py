"""``app/sync.py``: widget values set from code survive a browser that sends back the values it had before.

AppTest plays the browser. After each run it holds the values the server drew; a browser that has not
received a run yet is played by setting the widgets (and the hidden marker) back to what it last saw
before the next run, as the browser's message would carry them. The real-browser version, on a slowed
server, is ``tests/e2e/test_sync.py``.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from app.sync import MARKER_KEY
from resnet_core import PRESETS
from resnet_core.selection import format_value
from tests.apptest import no_exceptions

APP = str(Path(__file__).resolve().parents[1] / "app" / "streamlit_app.py")


def explorer(arch: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["arch"] = arch
    return no_exceptions(at.run())


def test_a_stale_echo_of_code_set_fields_is_undone_and_the_users_click_is_kept():
    at = explorer("resnet50")
    seen = {key: at.text_input(key=key).value for key in ("layers", MARKER_KEY)}
    at.selectbox(key="arch").select("resnet110").run()  # the preset's callback fills every field
    assert at.text_input(key="layers").value == format_value("layers", PRESETS["resnet110"].layers)
    # The browser had not received that run: its next click carries the old fields and the old marker.
    at.text_input(key="layers").set_value(seen["layers"])
    at.text_input(key=MARKER_KEY).set_value(seen[MARKER_KEY])
    at.segmented_control(key="level").set_value("stage")
    no_exceptions(at.run())
    assert at.title[0].value == "resnet110"
    assert at.text_input(key="layers").value == format_value("layers", PRESETS["resnet110"].layers)
    assert at.segmented_control(key="level").value == "stage"  # the click itself counts


def test_a_change_made_in_the_browser_is_the_users_even_before_it_caught_up():
    at = explorer("resnet50")
    marker = at.text_input(key=MARKER_KEY).value
    at.selectbox(key="arch").select("resnet110").run()
    # A browser behind by one run, where the user typed a third value into the field: that value wins.
    at.text_input(key="layers").set_value("9,9,9")
    at.text_input(key=MARKER_KEY).set_value(marker)
    no_exceptions(at.run())
    assert at.text_input(key="layers").value == "9,9,9"
    assert "resnet110 (modified" in at.title[0].value


def test_once_the_browser_has_caught_up_its_values_are_taken_as_they_are():
    at = explorer("resnet50")
    at.selectbox(key="arch").select("resnet110").run()
    at.run()  # the browser received that run: its marker is current
    old = format_value("layers", PRESETS["resnet50"].layers)
    at.text_input(key="layers").set_value(old).run()  # now typing resnet50's blocks is a choice, not an echo
    assert at.text_input(key="layers").value == old
